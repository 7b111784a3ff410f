//! Time, injectable: the cache reads it only for entries that carry a
//! deadline, through a [`Clock`], so tests move time by hand instead of
//! sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::list::NEVER;

/// A source of the current time.
///
/// The cache calls it on reads of entries that have a deadline, on inserts
/// that set one, and in [`purge_expired`](crate::LruCache::purge_expired);
/// a cache without TTLs never calls it.
pub trait Clock: Send + Sync + 'static {
    /// Now. Must never go backwards.
    fn now(&self) -> Instant;
}

/// The real monotonic clock, [`Instant::now`]. The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to — for tests of expiry that must not
/// sleep. Clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use perfect21_lru::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let before = clock.now();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(clock.now() - before, Duration::from_secs(5));
/// ```
#[derive(Clone)]
pub struct ManualClock {
    start: Instant,
    elapsed_nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at the moment it was created.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            elapsed_nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Moves the time forward by `by` (saturating after ~584 years).
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .elapsed_nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_add(nanos))
            });
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field(
                "elapsed",
                &Duration::from_nanos(self.elapsed_nanos.load(Ordering::Acquire)),
            )
            .finish()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        let elapsed = Duration::from_nanos(self.elapsed_nanos.load(Ordering::Acquire));
        self.start.checked_add(elapsed).unwrap_or(self.start)
    }
}

/// A clock read as nanoseconds since the cache was built — the unit of the
/// deadlines stored in the nodes (`u64`, so a node stays small).
#[derive(Clone)]
pub(crate) struct Timer {
    clock: Arc<dyn Clock>,
    origin: Instant,
}

impl Timer {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        let origin = clock.now();
        Self { clock, origin }
    }

    /// Nanoseconds since the origin, below [`NEVER`].
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        let nanos = self
            .clock
            .now()
            .saturating_duration_since(self.origin)
            .as_nanos();
        u64::try_from(nanos).unwrap_or(NEVER - 1).min(NEVER - 1)
    }

    /// The deadline of an entry written now that lives for `ttl`.
    pub(crate) fn deadline_after(&self, ttl: Duration) -> u64 {
        let ttl = u64::try_from(ttl.as_nanos()).unwrap_or(NEVER);
        self.now().saturating_add(ttl).min(NEVER - 1)
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("origin", &self.origin)
            .finish()
    }
}
