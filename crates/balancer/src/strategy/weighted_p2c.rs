use super::rng::Rng;
use super::{Strategy, p2c};
use crate::context::PickContext;

/// Power of two choices that honours weights (what tower's issue #696 asks
/// for): both candidates are drawn with probability weight ÷ total, and
/// the one with fewer in-flight requests per unit of weight wins (the first
/// drawn on a tie). With no load it picks in proportion to the weights;
/// under load it also steers away from the busier candidate.
#[derive(Debug)]
pub struct WeightedP2c {
    rng: Rng,
}

impl WeightedP2c {
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

    #[inline]
    fn draw(&self, ctx: &PickContext<'_>, total: u64) -> usize {
        let point = ((u128::from(self.rng.next_u64()) * u128::from(total)) >> 64) as u64;
        ctx.index_by_weight(point)
    }
}

impl Default for WeightedP2c {
    fn default() -> Self {
        Self::new()
    }
}

impl Strategy for WeightedP2c {
    #[inline]
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        let n = ctx.len();
        let total = ctx.total_weight();
        if n < 2 || total == 0 {
            return ctx.next_available(0);
        }
        let a = self.draw(ctx, total);
        // A second draw distinct from the first: a few tries, then the
        // neighbour (only reached when one endpoint holds nearly all weight).
        let b = (0..4)
            .map(|_| self.draw(ctx, total))
            .find(|&b| b != a)
            .unwrap_or((a + 1) % n);
        p2c::choose(ctx, &self.rng, a, b, |index| {
            ctx.in_flight(index) as f64 / f64::from(ctx.weight(index).max(1))
        })
    }
}
