//! An ejected endpoint's share is spread over every available endpoint,
//! not handed to its neighbour: counted over many picks.

mod support;

use std::collections::HashMap;

use perfect21_balancer::{Balancer, ManualClock, Random, RoundRobin, Strategy};
use support::{builder, call, ms};

const NAMES: [&str; 4] = ["a", "b", "c", "d"];

/// A balancer over a, b, c, d with `b` ejected (the clock never moves, so
/// it stays ejected).
fn with_b_ejected(strategy: impl Strategy, clock: &ManualClock) -> Balancer<&'static str> {
    let balancer = builder(strategy, &NAMES, clock)
        .consecutive_failures(1)
        .max_ejection_percent(100)
        .build()
        .unwrap();
    while !balancer.stats().endpoints[1].ejected {
        call(&balancer, clock, ms(0), |e| e == "b");
    }
    balancer
}

fn count(
    balancer: &Balancer<&'static str>,
    clock: &ManualClock,
    picks: usize,
) -> HashMap<&'static str, usize> {
    let mut counts = HashMap::new();
    for _ in 0..picks {
        *counts
            .entry(call(balancer, clock, ms(0), |_| false))
            .or_insert(0) += 1;
    }
    counts
}

#[test]
fn round_robin_gives_each_remaining_endpoint_an_equal_turn() {
    let clock = ManualClock::new();
    let balancer = with_b_ejected(RoundRobin::new(), &clock);
    let counts = count(&balancer, &clock, 3000);
    assert_eq!(counts.get("b"), None);
    for name in ["a", "c", "d"] {
        assert_eq!(counts[name], 1000, "{name}: {counts:?}");
    }
}

#[test]
fn random_spreads_the_ejected_share_evenly() {
    let clock = ManualClock::new();
    let balancer = with_b_ejected(Random::with_seed(11), &clock);
    let picks = 30_000;
    let counts = count(&balancer, &clock, picks);
    assert_eq!(counts.get("b"), None);
    // A third each; the neighbour used to get a half.
    for name in ["a", "c", "d"] {
        let share = counts[name] as f64 / picks as f64;
        assert!((share - 1.0 / 3.0).abs() < 0.02, "{name}: {counts:?}");
    }
}

#[test]
fn weighted_random_keeps_the_weights_among_the_remaining_endpoints() {
    let clock = ManualClock::new();
    let balancer = Balancer::builder()
        .strategy(Random::with_seed(5))
        .weighted_endpoint("a", 1)
        .weighted_endpoint("b", 1)
        .weighted_endpoint("c", 1)
        .weighted_endpoint("d", 2)
        .consecutive_failures(1)
        .max_ejection_percent(100)
        .clock(clock.clone())
        .build()
        .unwrap();
    while !balancer.stats().endpoints[1].ejected {
        call(&balancer, &clock, ms(0), |e| e == "b");
    }
    let picks = 40_000;
    let counts = count(&balancer, &clock, picks);
    // a : c : d = 1 : 1 : 2 of what remains.
    for (name, want) in [("a", 0.25), ("c", 0.25), ("d", 0.5)] {
        let share = counts[name] as f64 / picks as f64;
        assert!((share - want).abs() < 0.02, "{name}: {counts:?}");
    }
}
