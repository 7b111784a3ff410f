//! Exact counters and per-command-family latency histograms.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use hdrhistogram::Histogram;
use parking_lot::Mutex;

/// A family of Redis commands, for the latency histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum CommandFamily {
    /// Value reads: `GET`, `MGET`, or with `bounded_reads` `GETRANGE`
    /// (pipelines of them), with the `PTTL`s that a read filling the local
    /// tier pipelines beside them.
    Read,
    /// `SET` in all its forms, pipelines of `SET`.
    Write,
    /// `UNLINK`.
    Delete,
    /// One `SCAN` step.
    Scan,
    /// `EXISTS`, `PEXPIRE`, `PTTL` (of [`ttl`](crate::RedisCache::ttl)), `PING`, `INFO`.
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
    /// Keys found in Redis whose value decoded.
    pub hits: u64,
    /// Reads answered by the local tier (feature `local`), not counted in
    /// `hits`, which are Redis hits only.
    pub local_hits: u64,
    /// Keys of the namespace that Redis reported changed (by any client,
    /// this one included, or by expiry/eviction) and the local tier
    /// therefore evicted; a flush counts once. Feature `local`.
    pub local_invalidations: u64,
    /// Values read from Redis that did not fill L1 because an
    /// invalidation arrived while they were on their way: of their key, of
    /// a key sharing its stripe (1 in 1024), a clear, or a lost tracking
    /// connection (the fill race closed). Feature `local`.
    pub local_fills_discarded: u64,
    /// Times the tracking connection was lost (or stopped answering) and
    /// L1 was emptied until it was back. Feature `local`.
    pub local_resyncs: u64,
    /// Keys Redis did not have (or, read in a batch, held another type).
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
    /// `get_or_set` calls that found a fresh value and started its
    /// probabilistic early refresh in the background (XFetch).
    pub early_refreshes: u64,
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

/// One counter of [`Counters`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Count {
    Hits,
    LocalHits,
    Misses,
    Errors,
    Timeouts,
    DecodeErrors,
    Sets,
    Deletes,
    LoaderRuns,
    LoaderErrors,
    SingleflightJoins,
    StaleServed,
    EarlyRefreshes,
    BytesRead,
    BytesWritten,
}

const COUNTS: usize = 15;

/// Shards of counters and histograms: a thread records into its own
/// shard, so the tasks of different worker threads never bounce one
/// cache line between cores; a snapshot adds the shards up, which keeps
/// every count exact.
const SHARDS: usize = 16;

/// One shard, on cache lines of its own.
#[repr(align(128))]
struct Shard {
    counts: [AtomicU64; COUNTS],
    /// Created on the shard's first record (most shards of a process with
    /// few worker threads stay empty).
    latency: Mutex<[Option<Histogram<u64>>; 5]>,
}

impl Shard {
    fn new() -> Self {
        Self {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            latency: Mutex::new([None, None, None, None, None]),
        }
    }
}

fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Relaxed) % SHARDS;
    }
    INDEX.try_with(|i| *i).unwrap_or(0)
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 60 s at 2 significant digits; bounds are constants.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, 60_000_000, 2).expect("constant bounds are valid")
}

pub(crate) struct Counters {
    shards: Box<[Shard]>,
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counters").finish_non_exhaustive()
    }
}

impl Counters {
    pub(crate) fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Shard::new()).collect(),
        }
    }

    fn shard(&self) -> &Shard {
        &self.shards[shard_index()]
    }

    /// Adds `n` to one counter (nothing for 0).
    pub(crate) fn add(&self, count: Count, n: u64) {
        if n != 0 {
            self.shard().counts[count as usize].fetch_add(n, Relaxed);
        }
    }

    /// Records one command's latency in its family's histogram.
    pub(crate) fn record(&self, family: CommandFamily, elapsed: Duration) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let mut latency = self.shard().latency.lock();
        latency[family as usize]
            .get_or_insert_with(new_histogram)
            .saturating_record(us.max(1));
    }

    fn total(&self, count: Count) -> u64 {
        self.shards
            .iter()
            .map(|s| s.counts[count as usize].load(Relaxed))
            .fold(0u64, u64::wrapping_add)
    }

    pub(crate) fn snapshot(&self) -> CacheStats {
        let mut merged: [Histogram<u64>; 5] = std::array::from_fn(|_| new_histogram());
        for shard in self.shards.iter() {
            let latency = shard.latency.lock();
            for (into, from) in merged.iter_mut().zip(latency.iter()) {
                if let Some(from) = from {
                    // Same bounds on both sides: adding cannot fail.
                    let _ = into.add(from);
                }
            }
        }
        let latency = FAMILIES
            .iter()
            .map(|&family| {
                let h = &merged[family as usize];
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
            hits: self.total(Count::Hits),
            local_hits: self.total(Count::LocalHits),
            local_invalidations: 0,
            local_fills_discarded: 0,
            local_resyncs: 0,
            misses: self.total(Count::Misses),
            errors: self.total(Count::Errors),
            timeouts: self.total(Count::Timeouts),
            decode_errors: self.total(Count::DecodeErrors),
            sets: self.total(Count::Sets),
            deletes: self.total(Count::Deletes),
            loader_runs: self.total(Count::LoaderRuns),
            loader_errors: self.total(Count::LoaderErrors),
            singleflight_joins: self.total(Count::SingleflightJoins),
            stale_served: self.total(Count::StaleServed),
            early_refreshes: self.total(Count::EarlyRefreshes),
            bytes_read: self.total(Count::BytesRead),
            bytes_written: self.total(Count::BytesWritten),
            latency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_exact_across_threads_and_shards() {
        let counters = std::sync::Arc::new(Counters::new());
        let threads: Vec<_> = (0..40)
            .map(|_| {
                let counters = std::sync::Arc::clone(&counters);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        counters.add(Count::Hits, 1);
                        counters.add(Count::BytesRead, 3);
                        counters.record(CommandFamily::Read, Duration::from_micros(10));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let stats = counters.snapshot();
        assert_eq!((stats.hits, stats.bytes_read), (40_000, 120_000));
        assert_eq!(stats.latency_of(CommandFamily::Read).unwrap().count, 40_000);
        assert_eq!(stats.latency_of(CommandFamily::Write).unwrap().count, 0);
    }
}
