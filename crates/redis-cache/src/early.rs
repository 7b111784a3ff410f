//! Probabilistic early expiration (XFetch, Vattani, Chierichetti and
//! Lowenstein, VLDB 2015) for `get_or_set`.
//!
//! A value stored by `get_or_set` carries its fresh-until time and how
//! long its load took (`Δ`). Each `get_or_set` that finds it refreshes it
//! early, in the background, when `now + Δ · β · (−ln u) ≥ fresh_until`
//! for a fresh uniform `u` in (0, 1]: the probability rises as expiry
//! nears and with slower loads, so one caller refreshes a hot key before
//! it expires and the others keep being served.

use std::cell::Cell;
use std::sync::Arc;

/// The source of `u`, uniform in [0, 1] (0: always refresh, 1: never
/// before expiry).
pub(crate) type Random = Arc<dyn Fn() -> f64 + Send + Sync>;

#[derive(Clone)]
pub(crate) struct EarlyRefresh {
    pub(crate) beta: f64,
    pub(crate) random: Random,
}

impl std::fmt::Debug for EarlyRefresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EarlyRefresh")
            .field("beta", &self.beta)
            .finish_non_exhaustive()
    }
}

impl EarlyRefresh {
    pub(crate) fn new(beta: f64) -> Self {
        Self {
            beta,
            random: Arc::new(uniform),
        }
    }

    /// Whether a value fresh until `fresh_until` (Unix ms), whose load
    /// took `load_ms`, should be refreshed now.
    pub(crate) fn due(&self, now_ms: u64, fresh_until: u64, load_ms: u32) -> bool {
        xfetch(now_ms, fresh_until, load_ms, self.beta, (self.random)())
    }
}

/// The XFetch test: `now + Δ·β·(−ln u) ≥ fresh_until` (Δ at least 1 ms).
pub(crate) fn xfetch(now_ms: u64, fresh_until: u64, load_ms: u32, beta: f64, u: f64) -> bool {
    if now_ms >= fresh_until {
        return true;
    }
    let u = u.clamp(0.0, 1.0);
    let gap = f64::from(load_ms.max(1)) * beta * -u.ln();
    gap >= (fresh_until - now_ms) as f64
}

/// A uniform value in (0, 1] from a per-thread xorshift generator seeded
/// by std's random hasher keys.
fn uniform() -> f64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    let x = STATE
        .try_with(|s| {
            let mut x = s.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.set(x);
            x
        })
        .unwrap_or(1 << 63);
    ((x >> 11) + 1) as f64 / (1u64 << 53) as f64
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x9e37_79b9_7f4a_7c15);
    h.finish() | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_draws_decide_by_distance_to_expiry() {
        // u = 0.5: gap = 1000 ms · 1 · ln 2 ≈ 693 ms.
        assert!(!xfetch(0, 1000, 1000, 1.0, 0.5));
        assert!(xfetch(400, 1000, 1000, 1.0, 0.5));
        assert!(xfetch(1000, 1000, 1000, 1.0, 1.0), "expired: always");
        assert!(!xfetch(999, 1000, 1000, 1.0, 1.0), "u = 1: never early");
        assert!(xfetch(0, u64::MAX, 1, 1.0, 0.0), "u = 0: always");
        // β scales the gap.
        assert!(!xfetch(0, 1000, 1000, 0.5, 0.5));
        assert!(xfetch(0, 1000, 1000, 2.0, 0.5));
    }

    #[test]
    fn probability_rises_as_expiry_nears() {
        // The share of an even grid of u that refreshes, at growing ages.
        let share = |now: u64| {
            (1..=1000)
                .filter(|&i| xfetch(now, 10_000, 500, 1.0, f64::from(i) / 1000.0))
                .count()
        };
        let shares: Vec<usize> = [0, 5_000, 8_000, 9_000, 9_500, 9_900]
            .into_iter()
            .map(share)
            .collect();
        assert!(shares.windows(2).all(|w| w[0] <= w[1]), "{shares:?}");
        assert_eq!(shares[0], 0, "{shares:?}");
        assert!(shares[5] > 800, "{shares:?}");
    }

    #[test]
    fn the_default_source_is_uniform_in_the_unit_interval() {
        let draws: Vec<f64> = (0..10_000).map(|_| uniform()).collect();
        assert!(draws.iter().all(|&u| u > 0.0 && u <= 1.0));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }
}
