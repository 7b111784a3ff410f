//! Zipf-distributed key streams, generated once and replayed by every cache
//! so they all see the same workload.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Zipf};

/// The cache capacity of the Zipf workloads (entries).
pub const CAPACITY: usize = 100_000;
/// Keys drawn from: ten times the capacity.
pub const KEYS: u64 = 10 * CAPACITY as u64;
/// The Zipf exponent.
pub const S: f64 = 0.99;
/// Gets per hundred operations; the rest are inserts.
pub const GET_PERCENT: u32 = 90;

/// One operation of the mixed workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Look the key up.
    Get(u64),
    /// Write the key.
    Insert(u64),
}

/// `len` operations over keys `0..keys` with Zipf(`s`) popularity (key 0
/// the most popular), `get_percent` % of them gets and the rest inserts.
/// Deterministic for a given `seed`.
pub fn ops(keys: u64, s: f64, get_percent: u32, len: usize, seed: u64) -> Vec<Op> {
    let mut rng = StdRng::seed_from_u64(seed);
    let zipf = Zipf::new(keys as f64, s).unwrap_or_else(|e| panic!("Zipf({keys}, {s}): {e}"));
    let kind = rand::distr::Uniform::new(0u32, 100).unwrap_or_else(|e| panic!("{e}"));
    (0..len)
        .map(|_| {
            let key = zipf.sample(&mut rng) as u64 - 1;
            if kind.sample(&mut rng) < get_percent {
                Op::Get(key)
            } else {
                Op::Insert(key)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_skewed_and_mixed() {
        let a = ops(1000, 0.99, 90, 20_000, 7);
        assert_eq!(a, ops(1000, 0.99, 90, 20_000, 7));
        let gets = a.iter().filter(|o| matches!(o, Op::Get(_))).count();
        assert!((17_000..19_000).contains(&gets), "{gets}");
        let key = |o: &Op| match o {
            Op::Get(k) | Op::Insert(k) => *k,
        };
        assert!(a.iter().all(|o| key(o) < 1000));
        let hot = a.iter().filter(|o| key(o) == 0).count();
        let cold = a.iter().filter(|o| key(o) == 999).count();
        assert!(hot > 50 * cold.max(1), "hot {hot}, cold {cold}");
    }
}
