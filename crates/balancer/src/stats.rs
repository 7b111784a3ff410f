//! Snapshots of the counters.

use std::time::Duration;

/// One endpoint's counters at the moment of [`Balancer::stats`](crate::Balancer::stats).
///
/// `requests = successes + failures + cancelled + in_flight` once the
/// counters are quiet.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct EndpointStats<E> {
    /// The endpoint value.
    pub endpoint: E,
    /// Its weight.
    pub weight: u32,
    /// Requests picked for it.
    pub requests: u64,
    /// Requests resolved with [`success`](crate::PickGuard::success).
    pub successes: u64,
    /// Requests resolved with [`failure`](crate::PickGuard::failure).
    pub failures: u64,
    /// Guards dropped unresolved.
    pub cancelled: u64,
    /// Guards alive now.
    pub in_flight: u64,
    /// The peak-EWMA latency estimate as of its last sample (the default
    /// RTT before the first).
    pub ewma_latency: Duration,
    /// Ejected or on probation (not yet fully returned).
    pub ejected: bool,
    /// On probation: its ejection time is over, it awaits a successful probe.
    pub on_probation: bool,
    /// How many times it has been ejected since it was added.
    pub times_ejected: u64,
}

impl<E> EndpointStats<E> {
    /// Failures ÷ (successes + failures); 0 with no resolved request.
    pub fn error_rate(&self) -> f64 {
        ratio(self.failures, self.successes + self.failures)
    }
}

/// The balancer's counters: per endpoint, and totals that also include
/// endpoints since removed.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BalancerStats<E> {
    /// The current endpoints, in pick-index order.
    pub endpoints: Vec<EndpointStats<E>>,
    /// Successful picks (guards handed out).
    pub requests: u64,
    /// Requests resolved as successes.
    pub successes: u64,
    /// Requests resolved as failures.
    pub failures: u64,
    /// Guards dropped unresolved.
    pub cancelled: u64,
    /// Guards alive now.
    pub in_flight: u64,
    /// Picks refused because no endpoint was available.
    pub unavailable: u64,
    /// Ejections so far.
    pub ejections: u64,
    /// Ejections refused because `max_ejection_percent` was reached (the
    /// endpoint's run of consecutive failures then starts over).
    pub ejections_overflow: u64,
    /// Picks made in panic mode: fewer than `panic_threshold_percent` of
    /// the endpoints were healthy, so the pick was made over all of them.
    pub panic_routed: u64,
    /// Endpoints ejected or on probation now.
    pub ejected_now: usize,
}

impl<E> BalancerStats<E> {
    /// Failures ÷ (successes + failures); 0 with no resolved request.
    pub fn error_rate(&self) -> f64 {
        ratio(self.failures, self.successes + self.failures)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
