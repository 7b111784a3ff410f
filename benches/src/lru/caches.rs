//! The caches compared on hit ratio, behind one interface: `access(key)`
//! looks the key up and, on a miss, inserts it — a demand-paged cache, as
//! in the ARC paper's simulations.

use std::str::FromStr;
use std::sync::Barrier;

use super::contenders::{self, Alone, Shared, Single, demand_shared, demand_single};

/// A cache to replay a trace through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `perfect21_lru::LruCache`, exact LRU.
    Lru,
    /// `perfect21_lru::ConcurrentLru`, default shards.
    Concurrent,
    /// `moka::sync::Cache`.
    Moka,
    /// `quick_cache::sync::Cache`.
    QuickCache,
    /// The `lru` crate.
    LruCrate,
}

impl Kind {
    /// Every kind, in table order.
    pub const ALL: [Kind; 5] = [
        Kind::Lru,
        Kind::Concurrent,
        Kind::Moka,
        Kind::QuickCache,
        Kind::LruCrate,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Lru => "lru",
            Kind::Concurrent => "concurrent",
            Kind::Moka => "moka",
            Kind::QuickCache => "quick_cache",
            Kind::LruCrate => "lru-crate",
        }
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown cache `{s}` (one of: {})", names.join(", "))
            })
    }
}

/// Accesses per thread between two barriers of a multi-threaded replay.
pub const LOCKSTEP: usize = 64;

/// Replays `accesses` through a fresh cache of `kind` holding `capacity`
/// entries; for `Concurrent`, split round-robin over `threads` threads
/// running at once, in lockstep rounds of [`LOCKSTEP`] accesses each.
/// Returns the hits.
pub fn replay(kind: Kind, capacity: usize, threads: usize, accesses: &[u64]) -> u64 {
    match kind {
        Kind::Lru => alone(&mut contenders::ours(capacity), accesses),
        Kind::Concurrent => together(&contenders::ours_concurrent(capacity), threads, accesses),
        Kind::Moka => alone(&mut Alone(contenders::moka(capacity)), accesses),
        Kind::QuickCache => alone(&mut Alone(contenders::quick_sync(capacity)), accesses),
        Kind::LruCrate => alone(&mut contenders::lru_crate(capacity), accesses),
    }
}

fn alone<C: Single>(cache: &mut C, accesses: &[u64]) -> u64 {
    accesses
        .iter()
        .map(|&k| u64::from(demand_single(cache, k)))
        .sum()
}

/// Rounds of LOCKSTEP accesses per thread with a barrier between rounds
/// keep the threads within 2 × LOCKSTEP × threads accesses of the trace's
/// order. Free-running threads drift thousands of accesses apart, which
/// turns one trace into several unrelated ones and would cost any cache
/// points of hit ratio.
fn together<C: Shared>(cache: &C, threads: usize, accesses: &[u64]) -> u64 {
    let threads = threads.max(1);
    let barrier = Barrier::new(threads);
    let round = LOCKSTEP * threads;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut hits = 0;
                    for chunk in accesses.chunks(round) {
                        hits += chunk
                            .iter()
                            .skip(t)
                            .step_by(threads)
                            .map(|&k| u64::from(demand_shared(cache, k)))
                            .sum::<u64>();
                        barrier.wait();
                    }
                    hits
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| panic!("replay thread panicked"))
            })
            .sum()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_lru_hits_are_what_lru_says() {
        // Capacity 2: 1 2 1 3 2 1 → hits on the second 1 only (3 evicts 2,
        // 2 then evicts 1).
        let trace = [1, 2, 1, 3, 2, 1];
        assert_eq!(replay(Kind::Lru, 2, 1, &trace), 1);
        assert_eq!(replay(Kind::LruCrate, 2, 1, &trace), 1);
        // A loop of 3 keys in a cache of 3 hits on every pass after the first.
        let looped: Vec<u64> = (0..30).map(|i| i % 3).collect();
        for kind in Kind::ALL {
            assert_eq!(replay(kind, 3, 2, &looped), 27, "{kind:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(kind.name().parse::<Kind>().unwrap(), kind);
        }
        assert!("arc".parse::<Kind>().unwrap_err().contains("one of"));
    }
}
