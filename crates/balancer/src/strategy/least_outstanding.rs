use super::rng::Rng;
use super::{Strategy, p2c};
use crate::context::PickContext;

/// Power of two choices on the in-flight count: two distinct random
/// endpoints, the one with fewer unresolved requests wins. Adapts to slow
/// endpoints only through the requests piling up on them.
#[derive(Debug)]
pub struct LeastOutstanding {
    rng: Rng,
}

impl LeastOutstanding {
    /// Candidates drawn from a per-thread generator.
    pub fn new() -> Self {
        Self {
            rng: Rng::ThreadLocal,
        }
    }

    /// Candidates drawn from one generator seeded with `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Self {
            rng: Rng::seeded(seed),
        }
    }
}

impl Default for LeastOutstanding {
    fn default() -> Self {
        Self::new()
    }
}

impl Strategy for LeastOutstanding {
    #[inline]
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        p2c::pick(ctx, &self.rng, |index| ctx.in_flight(index) as f64)
    }
}
