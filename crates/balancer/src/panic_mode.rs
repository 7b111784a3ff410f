//! The panic threshold, as Envoy has it: when fewer than
//! `panic_threshold_percent` of the endpoints are healthy (neither ejected
//! nor on probation), the balancer stops trusting its own ejections and
//! routes over every endpoint, ejected or not, rather than piling the whole
//! load on the few left — or refusing it when none is left.
//!
//! The mode is a flag pickers read lock-free; it is recomputed under the
//! outlier lock whenever the number of endpoints or of ejected ones changes.

use std::sync::atomic::Ordering;

use crate::shared::{OutlierCounts, Shared};

/// Whether `ejected` of `endpoints` puts the healthy share below
/// `threshold_percent` (0 never panics; an empty set never panics).
pub(crate) fn in_panic(threshold_percent: u32, endpoints: usize, ejected: usize) -> bool {
    if threshold_percent == 0 || endpoints == 0 {
        return false;
    }
    let healthy = endpoints.saturating_sub(ejected) as u128;
    healthy * 100 < u128::from(threshold_percent) * endpoints as u128
}

impl Shared {
    /// Recomputes panic mode from `counts` (call with the outlier lock held,
    /// after changing them), and logs when it starts or ends.
    pub(crate) fn recount(&self, counts: &OutlierCounts) {
        let Some(outlier) = self.settings.outlier else {
            return;
        };
        let panic = in_panic(
            outlier.panic_threshold_percent,
            counts.endpoints,
            counts.ejected,
        );
        if self.panic.swap(panic, Ordering::Relaxed) == panic {
            return;
        }
        let healthy = counts.endpoints.saturating_sub(counts.ejected);
        if panic {
            tracing::warn!(
                target: "perfect21_balancer",
                healthy,
                endpoints = counts.endpoints,
                threshold_percent = outlier.panic_threshold_percent,
                "panic mode: too few healthy endpoints, routing over all of them"
            );
        } else {
            tracing::info!(
                target: "perfect21_balancer",
                healthy,
                endpoints = counts.endpoints,
                "panic mode over: routing over healthy endpoints only"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::in_panic;

    #[test]
    fn the_threshold_is_a_strict_lower_bound_on_the_healthy_share() {
        assert!(!in_panic(50, 2, 1), "half healthy is not below half");
        assert!(in_panic(50, 1, 1));
        assert!(in_panic(50, 4, 3));
        assert!(!in_panic(50, 4, 2));
        assert!(in_panic(100, 10, 1));
        assert!(!in_panic(100, 10, 0));
        assert!(!in_panic(0, 1, 1), "0 % turns it off");
        assert!(!in_panic(50, 0, 0));
    }
}
