use super::Strategy;
use super::rng::Rng;
use crate::context::PickContext;

/// A random endpoint, each with probability weight ÷ total weight
/// (uniform when weights are equal). Seedable for tests. A draw that lands
/// on an unavailable endpoint is drawn again among the available ones, so
/// each keeps its weight's share of what remains.
#[derive(Debug)]
pub struct Random {
    rng: Rng,
}

impl Random {
    /// Random picks from a per-thread generator.
    pub fn new() -> Self {
        Self {
            rng: Rng::ThreadLocal,
        }
    }

    /// Random picks from one generator seeded with `seed`, shared by all
    /// threads: the same seed and pick sequence on one thread gives the
    /// same endpoints.
    pub fn with_seed(seed: u64) -> Self {
        Self {
            rng: Rng::seeded(seed),
        }
    }
}

impl Default for Random {
    fn default() -> Self {
        Self::new()
    }
}

impl Strategy for Random {
    #[inline]
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        let total = ctx.total_weight();
        if total == 0 {
            return None;
        }
        let point = ((u128::from(self.rng.next_u64()) * u128::from(total)) >> 64) as u64;
        let index = ctx.index_by_weight(point);
        if ctx.is_available(index) {
            Some(index)
        } else {
            ctx.random_available_by_weight(self.rng.next_u64())
        }
    }
}
