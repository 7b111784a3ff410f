//! The balancer-wide state every endpoint points to: clock, options,
//! totals and the outlier lock.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;

use crate::clock::Timeline;
use crate::settings::Settings;

/// Balancer-wide state shared by the balancer, its endpoints and guards.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) timeline: Timeline,
    pub(crate) settings: Settings,
    pub(crate) totals: Totals,
    /// Serialises ejections and returns, and guards the counts below.
    pub(crate) outlier: Mutex<OutlierCounts>,
    /// Panic mode (see `panic_mode.rs`): read by every pick, written under
    /// the outlier lock.
    pub(crate) panic: AtomicBool,
}

/// How many endpoints the set holds and how many are ejected (or on
/// probation); changed under the outlier lock.
#[derive(Debug, Default)]
pub(crate) struct OutlierCounts {
    pub(crate) endpoints: usize,
    pub(crate) ejected: usize,
}

/// Balancer-level counters (they include endpoints since removed), striped
/// over cache-line-sized shards: each thread adds to its own shard, so
/// threads picking at once do not pass one cache line back and forth.
/// A snapshot sums the shards.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    shards: [Padded; SHARDS],
}

const SHARDS: usize = 8;

/// One shard, alone on its cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(TotalsShard);

/// The counters of one shard.
#[derive(Debug, Default)]
pub(crate) struct TotalsShard {
    pub(crate) requests: AtomicU64,
    pub(crate) successes: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) unavailable: AtomicU64,
    pub(crate) ejections: AtomicU64,
    pub(crate) ejections_overflow: AtomicU64,
    pub(crate) panic_routed: AtomicU64,
}

static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

impl Totals {
    /// The calling thread's shard.
    #[inline]
    pub(crate) fn local(&self) -> &TotalsShard {
        let index = SHARD.try_with(|shard| *shard).unwrap_or(0);
        &self.shards[index % SHARDS].0
    }

    /// One counter summed over the shards.
    pub(crate) fn sum(&self, counter: impl Fn(&TotalsShard) -> &AtomicU64) -> u64 {
        self.shards
            .iter()
            .map(|shard| counter(&shard.0).load(Ordering::Relaxed))
            .sum()
    }
}
