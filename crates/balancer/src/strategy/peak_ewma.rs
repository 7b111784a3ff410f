use super::rng::Rng;
use super::{Strategy, p2c};
use crate::context::PickContext;

/// Power of two choices on `rtt_estimate × (in_flight + 1)` — linkerd's
/// and tower's PeakEwma, plus a failure penalty.
///
/// The estimate is peak-sensitive: a sample slower than the estimate
/// replaces it at once, faster ones blend in with weight
/// `1 − exp(−Δt / decay)`, and with no samples it decays toward zero so an
/// idle endpoint is tried again. A failure is recorded as a sample of at
/// least the failure penalty, so an endpoint that fails fast does not look
/// fast. The decay (default 10 s), the RTT assumed for a new endpoint
/// (default 30 ms) and the penalty (default 500 ms) are options of the
/// [`BalancerBuilder`](crate::BalancerBuilder).
#[derive(Debug)]
pub struct PeakEwma {
    rng: Rng,
}

impl PeakEwma {
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

impl Default for PeakEwma {
    fn default() -> Self {
        Self::new()
    }
}

impl Strategy for PeakEwma {
    #[inline]
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        match ctx.len() {
            0 => None,
            1 => ctx.is_available(0).then_some(0),
            n => {
                let (a, b) = p2c::two_distinct(&self.rng, n);
                p2c::choose_by(ctx, &self.rng, a, b, |a, b| {
                    // cost = rtt × e^(−(now − at)/decay) × (in_flight + 1);
                    // comparing two costs needs only e^((at_b − at_a)/decay).
                    let (rtt_a, at_a) = ctx.rtt_sample(a);
                    let (rtt_b, at_b) = ctx.rtt_sample(b);
                    let exponent =
                        ((at_b as f64 - at_a as f64) / ctx.settings.decay_ns).clamp(-700.0, 700.0);
                    let cost_a = rtt_a * (ctx.in_flight(a) + 1) as f64;
                    let cost_b = rtt_b * (ctx.in_flight(b) + 1) as f64 * exp(exponent);
                    cost_b < cost_a
                })
            }
        }
    }
}

/// `e^x`; near zero (two samples close in time, compared with the decay
/// time: the usual case) a Taylor polynomial whose error is below 1e-10,
/// cheaper than the libm call.
#[inline]
fn exp(x: f64) -> f64 {
    if x.abs() < 1e-2 {
        1.0 + x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0))))
    } else {
        x.exp()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_polynomial_matches_exp_near_zero() {
        for i in -100..=100 {
            let x = f64::from(i) * 1e-4;
            assert!((super::exp(x) - x.exp()).abs() < 1e-10, "{x}");
        }
        assert_eq!(super::exp(3.0), 3.0f64.exp());
    }
}
