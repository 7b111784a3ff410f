use parking_lot::Mutex;

use super::Strategy;
use crate::context::PickContext;

/// nginx's smooth weighted round robin: every pick adds each available
/// endpoint's weight to its running score, takes the highest score and
/// subtracts the total weight from it. Weights {5, 1, 1} give
/// `a a b a c a a`, spreading the light endpoints instead of bunching them.
///
/// The running scores are shared state, so picks serialise on a short lock
/// (as they do in nginx); they reset when the set or a weight changes.
#[derive(Debug, Default)]
pub struct SmoothWeightedRoundRobin {
    state: Mutex<Scores>,
}

#[derive(Debug, Default)]
struct Scores {
    generation: Option<u64>,
    current: Vec<i64>,
}

impl SmoothWeightedRoundRobin {
    /// A smooth weighted round robin.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Strategy for SmoothWeightedRoundRobin {
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        let mut state = self.state.lock();
        if state.generation != Some(ctx.generation()) || state.current.len() != ctx.len() {
            state.generation = Some(ctx.generation());
            state.current = vec![0; ctx.len()];
        }
        let mut total = 0i64;
        let mut best: Option<usize> = None;
        for index in 0..ctx.len() {
            if !ctx.is_available(index) {
                continue;
            }
            let weight = i64::from(ctx.weight(index));
            state.current[index] += weight;
            total += weight;
            if best.is_none_or(|b| state.current[index] > state.current[b]) {
                best = Some(index);
            }
        }
        let best = best?;
        state.current[best] -= total;
        Some(best)
    }
}
