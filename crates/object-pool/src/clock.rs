//! Where the pool reads the time for `idle_timeout`: the system clock, or
//! one a test drives.

use std::fmt::Debug;
use std::time::Instant;

/// A source of `Instant`s. The pool reads it only when `idle_timeout` is
/// set: once when an object goes idle and once when idle objects are
/// checked for expiry, never under its lock (a clock may use the pool). A
/// panic in `now` is caught and counted (`Stats::hook_panics`). Tests
/// inject a clock they advance by hand.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The system's monotonic clock, [`Instant::now`]. The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Instant {
        Instant::now()
    }
}
