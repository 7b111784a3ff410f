use super::Strategy;
use crate::context::PickContext;

/// The original guide's score, `errors × 1000 + ewma_latency_ms +
/// in_flight × 0.1`, lowest wins — kept to compare against in the benches,
/// with one fix: errors decay (with the EWMA decay time) instead of
/// blacklisting an endpoint forever. O(N) per pick; ties go to the lowest
/// index.
#[derive(Debug, Default)]
pub struct Score {
    _private: (),
}

impl Score {
    /// The guide's scoring.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Strategy for Score {
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for index in 0..ctx.len() {
            if !ctx.is_available(index) {
                continue;
            }
            let score = ctx.recent_failures(index) * 1000.0
                + ctx.rtt_estimate_nanos(index) / 1e6
                + ctx.in_flight(index) as f64 * 0.1;
            if best.is_none_or(|(_, low)| score < low) {
                best = Some((index, score));
            }
        }
        best.map(|(index, _)| index)
    }
}
