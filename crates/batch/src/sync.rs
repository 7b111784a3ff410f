//! The lock around the queue protocol (and the thread-local that keeps
//! slot release from recursing): `parking_lot`'s and `std`'s normally,
//! loom's under `cfg(perfect21_loom)`, so the models in `loom_tests` explore every
//! interleaving of submit, cancel, flush, close and slot release in the
//! real code. (tokio's semaphore, channels and `Notify` are not modelled:
//! loom cannot see inside them.)

#[cfg(not(perfect21_loom))]
pub(crate) use parking_lot::Mutex;
#[cfg(not(perfect21_loom))]
pub(crate) use std::thread_local;

#[cfg(perfect21_loom)]
pub(crate) use loom::thread_local;

#[cfg(perfect21_loom)]
pub(crate) use loom_mutex::Mutex;

#[cfg(perfect21_loom)]
mod loom_mutex {
    /// loom's mutex with `parking_lot`'s signature (no poisoning: no user
    /// code runs under the lock).
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            match self.0.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            }
        }
    }
}
