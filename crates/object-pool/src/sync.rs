//! The synchronisation primitives the pool's shared state is built from:
//! `std`'s normally, loom's under `cfg(perfect21_loom)` so the loom models
//! in `loom_tests` explore every interleaving of the real code.

#[cfg(not(perfect21_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize};
#[cfg(not(perfect21_loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};
#[cfg(not(perfect21_loom))]
pub(crate) use std::thread::{Thread, current as current_thread, park};

#[cfg(perfect21_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize};
#[cfg(perfect21_loom)]
pub(crate) use loom::thread::{Thread, current as current_thread, park};

/// Parks the calling thread for up to `timeout`. Under loom, which has no
/// timed park, it parks until unparked: the models wait without deadline.
pub(crate) fn park_timeout(timeout: std::time::Duration) {
    #[cfg(not(perfect21_loom))]
    std::thread::park_timeout(timeout);
    #[cfg(perfect21_loom)]
    {
        let _ = timeout;
        loom::thread::park();
    }
}
#[cfg(perfect21_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

/// Locks `mutex`. No user code ever runs while one of the pool's locks is
/// held, so a poisoned lock only means a panic inside the pool's own
/// bookkeeping between two consistent states; the data is still valid.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(not(perfect21_loom))]
    {
        mutex
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    #[cfg(perfect21_loom)]
    {
        match mutex.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// An `UnsafeCell` with loom's closure API, so the same code is checked by
/// loom's access tracking under `cfg(perfect21_loom)`.
#[derive(Debug)]
pub(crate) struct UnsafeCell<T> {
    #[cfg(not(perfect21_loom))]
    inner: std::cell::UnsafeCell<T>,
    #[cfg(perfect21_loom)]
    inner: loom::cell::UnsafeCell<T>,
}

impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            #[cfg(not(perfect21_loom))]
            inner: std::cell::UnsafeCell::new(value),
            #[cfg(perfect21_loom)]
            inner: loom::cell::UnsafeCell::new(value),
        }
    }

    /// Runs `f` with a raw pointer to the contents; the caller upholds the
    /// aliasing rules when it dereferences it.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        #[cfg(not(perfect21_loom))]
        {
            f(self.inner.get())
        }
        #[cfg(perfect21_loom)]
        {
            self.inner.with_mut(f)
        }
    }
}
