//! The stats snapshot and the counters behind it.
//!
//! Each thread cache keeps its own block of counters, written only by the
//! thread that owns the cache (a relaxed load and store, no read-modify-write
//! on the fast path); operations on the shared stack use one shared block
//! with `fetch_add`. A snapshot sums every block, so totals are exact: no
//! increment is ever lost, whatever the interleaving.

use std::time::Duration;

use crate::sync::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

/// A snapshot of a pool's counters and gauges. Counters only grow; `idle`
/// and `in_use` are the state at the time of the snapshot. Every number is
/// exact once the pool is quiescent; while other threads work, each counter
/// is exact but they are not read at one single instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Stats {
    /// Objects made by the factory (prefilled ones included).
    pub created: u64,
    /// Gets served with an idle object instead of a new one.
    pub reused: u64,
    /// Objects that came back from a guard and were kept for reuse.
    pub returned: u64,
    /// Objects taken out of the pool for good with `detach`.
    pub detached: u64,
    /// Objects dropped on return because `max_idle` objects were idle.
    pub discarded_over_max_idle: u64,
    /// Objects dropped on return because `validate` said no, or because the
    /// `reset` or `validate` hook panicked.
    pub discarded_invalid: u64,
    /// Idle objects dropped because they sat unused longer than `idle_timeout`.
    pub discarded_expired: u64,
    /// Idle objects dropped by `trim`.
    pub discarded_trimmed: u64,
    /// Panics caught in user code the pool runs: the `reset` and `validate`
    /// hooks and the clock on a return (each of those also counts in
    /// `discarded_invalid`), the clock on a get (served without an expiry
    /// check), and the `Drop` of an object the pool discarded (already
    /// counted where it was discarded).
    pub hook_panics: u64,
    /// Gets refused because a pool capped by `max_total` had nothing to give
    /// (`get` errors and `get_timeout`/`get_async` timeouts).
    pub exhausted: u64,
    /// Gets that had to wait for an object (capped pools only).
    pub waits: u64,
    /// The total time those gets waited.
    pub wait_time: Duration,
    /// Objects handed out and not yet back.
    pub in_use: u64,
    /// Objects kept for reuse now, in the shared stack and in thread caches.
    pub idle: u64,
    /// Gets waiting now for an object of a capped pool.
    pub waiting: u64,
}

impl Stats {
    /// All objects dropped by the pool, for every reason.
    pub fn discarded(&self) -> u64 {
        self.discarded_over_max_idle
            + self.discarded_invalid
            + self.discarded_expired
            + self.discarded_trimmed
    }

    /// The share of objects handed out that were reused rather than created:
    /// `reused / (reused + created)` (prefilled objects count as created),
    /// 0 before the first get.
    pub fn reuse_ratio(&self) -> f64 {
        let total = self.reused + self.created;
        if total == 0 {
            0.0
        } else {
            self.reused as f64 / total as f64
        }
    }
}

/// What a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    Created,
    Reused,
    Returned,
    Detached,
    DiscardedFull,
    DiscardedInvalid,
    DiscardedExpired,
    DiscardedTrimmed,
    HookPanic,
    Exhausted,
    Waited,
    WaitNanos,
}

const EVENTS: usize = Event::WaitNanos as usize + 1;

/// One block of counters.
#[derive(Debug)]
pub(crate) struct Counters {
    counts: [AtomicU64; EVENTS],
}

impl Counters {
    pub(crate) fn new() -> Self {
        Self {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Adds `n` from any thread.
    #[inline]
    pub(crate) fn add(&self, event: Event, n: u64) {
        self.counts[event as usize].fetch_add(n, Relaxed);
    }

    /// Adds `n` from the one thread that owns this block: a plain load and
    /// store, which no other writer can interleave with.
    #[inline(always)]
    pub(crate) fn add_owned(&self, event: Event, n: u64) {
        let counter = &self.counts[event as usize];
        counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// Adds this block into `stats` (gauges aside).
    pub(crate) fn sum_into(&self, stats: &mut Stats) {
        let get = |event: Event| self.counts[event as usize].load(Relaxed);
        stats.created += get(Event::Created);
        stats.reused += get(Event::Reused);
        stats.returned += get(Event::Returned);
        stats.detached += get(Event::Detached);
        stats.discarded_over_max_idle += get(Event::DiscardedFull);
        stats.discarded_invalid += get(Event::DiscardedInvalid);
        stats.discarded_expired += get(Event::DiscardedExpired);
        stats.discarded_trimmed += get(Event::DiscardedTrimmed);
        stats.hook_panics += get(Event::HookPanic);
        stats.exhausted += get(Event::Exhausted);
        stats.waits += get(Event::Waited);
        stats.wait_time += Duration::from_nanos(get(Event::WaitNanos));
    }
}
