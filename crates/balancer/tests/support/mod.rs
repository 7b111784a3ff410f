#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use perfect21_balancer::{Balancer, BalancerBuilder, ManualClock, Strategy};

/// A builder over endpoints `"a"`, `"b"`, … with a manual clock.
pub fn builder(
    strategy: impl Strategy,
    names: &[&'static str],
    clock: &ManualClock,
) -> BalancerBuilder<&'static str> {
    Balancer::builder()
        .strategy(strategy)
        .endpoints(names.iter().copied())
        .clock(clock.clone())
}

/// Picks once, advances the clock by `latency`, resolves as success or
/// failure; returns the endpoint.
pub fn call(
    balancer: &Balancer<&'static str>,
    clock: &ManualClock,
    latency: Duration,
    fail: impl Fn(&str) -> bool,
) -> &'static str {
    let guard = balancer.pick().expect("an endpoint");
    let endpoint = *guard;
    clock.advance(latency);
    if fail(endpoint) {
        guard.failure();
    } else {
        guard.success();
    }
    endpoint
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
