//! The synchronisation primitives the pool is built from: `std`'s normally,
//! loom's under `cfg(perfect21_loom)`, so the loom models in `loom_tests`
//! explore every interleaving of the real code.

#[cfg(not(perfect21_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
#[cfg(not(perfect21_loom))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(perfect21_loom))]
pub(crate) use std::thread::{self, JoinHandle};
#[cfg(not(perfect21_loom))]
pub(crate) use std::thread_local;

#[cfg(perfect21_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
#[cfg(perfect21_loom)]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(perfect21_loom)]
pub(crate) use loom::thread::{self, JoinHandle};
#[cfg(perfect21_loom)]
pub(crate) use loom::thread_local;

use std::time::{Duration, Instant};

/// Locks `mutex`. No user code runs while one of the pool's locks is held,
/// so a poisoned lock only means a panic inside the pool's own bookkeeping
/// between two consistent states; the data is still valid.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Waits on `condvar`, until `deadline` when there is one. Returns the
/// guard and whether the deadline has passed. Wake-ups may be spurious:
/// callers re-check their condition.
pub(crate) fn wait_until<'a, T>(
    condvar: &Condvar,
    guard: MutexGuard<'a, T>,
    deadline: Option<Instant>,
) -> (MutexGuard<'a, T>, bool) {
    match deadline {
        None => match condvar.wait(guard) {
            Ok(guard) => (guard, false),
            Err(poisoned) => (poisoned.into_inner(), false),
        },
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return (guard, true);
            }
            let guard = match condvar.wait_timeout(guard, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
            (guard, Instant::now() >= deadline)
        }
    }
}

/// `deadline` for a wait of `timeout` from now (`None` waits for ever; a
/// timeout too large to represent also waits for ever).
pub(crate) fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

/// Orders a `SeqCst` read-modify-write before a later `SeqCst` load of
/// another location — the two halves of each "announce, then look" hand-off
/// in the pool. C11 already gives this between `SeqCst` operations (they
/// share one total order), so it compiles to nothing; loom models `SeqCst`
/// accesses as `AcqRel` and sees the order only through a `SeqCst` fence.
#[inline(always)]
pub(crate) fn announce_then_look() {
    #[cfg(perfect21_loom)]
    loom::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
}

/// A pause in a busy-wait: the CPU's spin hint (a yield under loom).
#[inline]
pub(crate) fn spin_hint() {
    #[cfg(not(perfect21_loom))]
    std::hint::spin_loop();
    #[cfg(perfect21_loom)]
    loom::hint::spin_loop();
}
