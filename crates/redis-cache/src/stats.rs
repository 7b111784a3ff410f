//! Exact counters and per-command-family latency histograms.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use hdrhistogram::Histogram;
use parking_lot::Mutex;

/// A family of Redis commands, for the latency histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum CommandFamily {
    /// `GET`, `MGET`.
    Read,
    /// `SET` in all its forms, pipelines of `SET`.
    Write,
    /// `UNLINK`.
    Delete,
    /// One `SCAN` step.
    Scan,
    /// `EXISTS`, `PEXPIRE`, `PTTL`, `PING`, `INFO`.
    Other,
}

const FAMILIES: [CommandFamily; 5] = [
    CommandFamily::Read,
    CommandFamily::Write,
    CommandFamily::Delete,
    CommandFamily::Scan,
    CommandFamily::Other,
];

/// Latency of one command family, from its histogram (microseconds).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LatencySummary {
    /// The family.
    pub family: CommandFamily,
    /// Commands recorded (successes and failures).
    pub count: u64,
    /// Median, µs.
    pub p50_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// Largest, µs.
    pub max_us: u64,
}

/// A snapshot of the cache's counters. All counts are exact: each is one
/// relaxed atomic increment per event.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct CacheStats {
    /// Keys found by `GET`/`MGET` that decoded.
    pub hits: u64,
    /// Reads answered by the local tier (feature `local`), not counted in
    /// `hits`, which are Redis hits only.
    pub local_hits: u64,
    /// Keys `GET`/`MGET` did not find.
    pub misses: u64,
    /// Redis errors (connection, protocol, server replies) — *not* misses.
    pub errors: u64,
    /// Commands that exceeded the command timeout — *not* misses.
    pub timeouts: u64,
    /// Values found that failed to decode (read as misses by the caller,
    /// counted here and not in `misses`).
    pub decode_errors: u64,
    /// Values written (each key of a `set_many` counts once).
    pub sets: u64,
    /// Keys removed (by `delete`, `delete_many` and the `clear_*` calls).
    pub deletes: u64,
    /// Loader runs of `get_or_set` / memoized functions.
    pub loader_runs: u64,
    /// Loader runs that returned an error.
    pub loader_errors: u64,
    /// Callers that joined a load already in flight instead of starting one.
    pub singleflight_joins: u64,
    /// `get_or_set` calls answered with a stale value while one background
    /// refresh ran (stale-while-revalidate).
    pub stale_served: u64,
    /// Value bytes received from Redis.
    pub bytes_read: u64,
    /// Value bytes sent to Redis.
    pub bytes_written: u64,
    /// Latency per command family.
    pub latency: Vec<LatencySummary>,
}

impl CacheStats {
    /// `(hits + local_hits) / (hits + local_hits + misses)`; `0.0` before
    /// any lookup. Errors and decode errors are not in the denominator.
    pub fn hit_ratio(&self) -> f64 {
        let found = self.hits + self.local_hits;
        let total = found + self.misses;
        if total == 0 {
            0.0
        } else {
            found as f64 / total as f64
        }
    }

    /// The latency summary of one family.
    pub fn latency_of(&self, family: CommandFamily) -> Option<&LatencySummary> {
        self.latency.iter().find(|l| l.family == family)
    }
}

#[derive(Debug)]
pub(crate) struct Counters {
    pub(crate) hits: AtomicU64,
    pub(crate) local_hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) decode_errors: AtomicU64,
    pub(crate) sets: AtomicU64,
    pub(crate) deletes: AtomicU64,
    pub(crate) loader_runs: AtomicU64,
    pub(crate) loader_errors: AtomicU64,
    pub(crate) singleflight_joins: AtomicU64,
    pub(crate) stale_served: AtomicU64,
    pub(crate) bytes_read: AtomicU64,
    pub(crate) bytes_written: AtomicU64,
    latency: [Mutex<Histogram<u64>>; 5],
}

impl Counters {
    pub(crate) fn new() -> Self {
        let histogram = || {
            // 1 µs .. 60 s at 2 significant digits; bounds are constants.
            #[allow(clippy::expect_used)]
            Mutex::new(
                Histogram::new_with_bounds(1, 60_000_000, 2).expect("constant bounds are valid"),
            )
        };
        Self {
            hits: AtomicU64::new(0),
            local_hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            decode_errors: AtomicU64::new(0),
            sets: AtomicU64::new(0),
            deletes: AtomicU64::new(0),
            loader_runs: AtomicU64::new(0),
            loader_errors: AtomicU64::new(0),
            singleflight_joins: AtomicU64::new(0),
            stale_served: AtomicU64::new(0),
            bytes_read: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            latency: [
                histogram(),
                histogram(),
                histogram(),
                histogram(),
                histogram(),
            ],
        }
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub(crate) fn record(&self, family: CommandFamily, elapsed: Duration) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.latency[family as usize]
            .lock()
            .saturating_record(us.max(1));
    }

    pub(crate) fn snapshot(&self) -> CacheStats {
        let latency = FAMILIES
            .iter()
            .map(|&family| {
                let h = self.latency[family as usize].lock();
                LatencySummary {
                    family,
                    count: h.len(),
                    p50_us: h.value_at_quantile(0.5),
                    p99_us: h.value_at_quantile(0.99),
                    max_us: h.max(),
                }
            })
            .collect();
        CacheStats {
            hits: self.hits.load(Relaxed),
            local_hits: self.local_hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            errors: self.errors.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            decode_errors: self.decode_errors.load(Relaxed),
            sets: self.sets.load(Relaxed),
            deletes: self.deletes.load(Relaxed),
            loader_runs: self.loader_runs.load(Relaxed),
            loader_errors: self.loader_errors.load(Relaxed),
            singleflight_joins: self.singleflight_joins.load(Relaxed),
            stale_served: self.stale_served.load(Relaxed),
            bytes_read: self.bytes_read.load(Relaxed),
            bytes_written: self.bytes_written.load(Relaxed),
            latency,
        }
    }
}
