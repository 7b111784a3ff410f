//! One behaviour per strategy.

mod support;

use std::collections::HashMap;

use perfect21_balancer::{
    Balancer, ConsistentHash, Error, LeastOutstanding, ManualClock, PeakEwma, Random, RoundRobin,
    Score, SmoothWeightedRoundRobin, WeightedP2c,
};
use support::{builder, call, ms, secs};

#[test]
fn round_robin_visits_each_endpoint_in_turn() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a", "b", "c"], &clock)
        .build()
        .unwrap();
    let order: Vec<_> = (0..7)
        .map(|_| call(&balancer, &clock, ms(1), |_| false))
        .collect();
    assert_eq!(order, ["a", "b", "c", "a", "b", "c", "a"]);
}

#[test]
fn smooth_weighted_round_robin_gives_nginx_sequence() {
    let balancer = Balancer::builder()
        .strategy(SmoothWeightedRoundRobin::new())
        .weighted_endpoint("a", 5)
        .weighted_endpoint("b", 1)
        .weighted_endpoint("c", 1)
        .build()
        .unwrap();
    let order: Vec<_> = (0..14).map(|_| *balancer.pick().unwrap()).collect();
    assert_eq!(
        order,
        [
            "a", "a", "b", "a", "c", "a", "a", "a", "a", "b", "a", "c", "a", "a"
        ]
    );
}

#[test]
fn smooth_weighted_round_robin_follows_a_weight_change() {
    let balancer = Balancer::builder()
        .strategy(SmoothWeightedRoundRobin::new())
        .endpoints(["a", "b"])
        .build()
        .unwrap();
    balancer.set_weight(&"b", 3).unwrap();
    let order: Vec<_> = (0..4).map(|_| *balancer.pick().unwrap()).collect();
    assert_eq!(order, ["b", "a", "b", "b"]);
}

#[test]
fn seeded_random_replays_the_same_sequence() {
    let run = |seed| {
        let balancer = Balancer::builder()
            .strategy(Random::with_seed(seed))
            .endpoints(["a", "b", "c", "d"])
            .build()
            .unwrap();
        (0..64)
            .map(|_| *balancer.pick().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn least_outstanding_avoids_the_endpoint_with_requests_in_flight() {
    let balancer = Balancer::builder()
        .strategy(LeastOutstanding::with_seed(1))
        .endpoints(["a", "b"])
        .build()
        .unwrap();
    let held = balancer.pick().unwrap();
    let busy = *held;
    for _ in 0..50 {
        let guard = balancer.pick().unwrap();
        assert_ne!(*guard, busy, "two candidates of two: the idle one wins");
    }
    drop(held);
}

#[test]
fn peak_ewma_moves_traffic_off_a_slow_endpoint() {
    let clock = ManualClock::new();
    let balancer = builder(PeakEwma::with_seed(3), &["a", "b", "c", "d"], &clock)
        .build()
        .unwrap();
    let mut counts = HashMap::new();
    for _ in 0..1000 {
        let guard = balancer.pick().unwrap();
        let endpoint = *guard;
        clock.advance(if endpoint == "d" { ms(100) } else { ms(5) });
        guard.success();
        *counts.entry(endpoint).or_insert(0) += 1;
    }
    // One 100 ms sample makes "d" cost 20× the others; it loses every pair.
    assert!(counts.get("d").copied().unwrap_or(0) <= 2, "{counts:?}");
    let stats = balancer.stats();
    assert!(stats.endpoints[3].ewma_latency >= ms(90));
}

#[test]
fn peak_ewma_penalises_fast_failures() {
    let clock = ManualClock::new();
    let balancer = builder(PeakEwma::with_seed(5), &["a", "b", "c"], &clock)
        .outlier_detection(false)
        .build()
        .unwrap();
    let mut failures = 0;
    for _ in 0..1000 {
        let guard = balancer.pick().unwrap();
        // "c" answers ten times faster than the others, with an error.
        if *guard == "c" {
            clock.advance(ms(1));
            failures += 1;
            guard.failure();
        } else {
            clock.advance(ms(10));
            guard.success();
        }
    }
    assert!(failures <= 2, "a fast error must not look fast: {failures}");
    // With the penalty off, the fast failing endpoint attracts traffic.
    let clock = ManualClock::new();
    let unpenalised = builder(PeakEwma::with_seed(5), &["a", "b", "c"], &clock)
        .outlier_detection(false)
        .failure_penalty(ms(0))
        .build()
        .unwrap();
    let mut failures = 0;
    for _ in 0..1000 {
        let guard = unpenalised.pick().unwrap();
        if *guard == "c" {
            clock.advance(ms(1));
            failures += 1;
            guard.failure();
        } else {
            clock.advance(ms(10));
            guard.success();
        }
    }
    assert!(failures > 100, "{failures}");
}

#[test]
fn peak_ewma_estimate_decays_so_an_idle_endpoint_is_tried_again() {
    let clock = ManualClock::new();
    let balancer = builder(PeakEwma::with_seed(9), &["a", "b"], &clock)
        .build()
        .unwrap();
    // Make "b" look slow.
    loop {
        let guard = balancer.pick().unwrap();
        let slow = *guard == "b";
        clock.advance(if slow { ms(200) } else { ms(5) });
        guard.success();
        if slow {
            break;
        }
    }
    // Many decay times later "b"'s old peak has decayed below the fresh
    // 5 ms samples of "a": it is tried again.
    clock.advance(secs(120));
    let picked: Vec<_> = (0..20)
        .map(|_| call(&balancer, &clock, ms(5), |_| false))
        .collect();
    assert!(picked.contains(&"b"), "{picked:?}");
}

#[test]
fn weighted_p2c_prefers_the_less_loaded_per_unit_of_weight() {
    let balancer = Balancer::builder()
        .strategy(WeightedP2c::with_seed(11))
        .weighted_endpoint("a", 1)
        .weighted_endpoint("b", 1)
        .build()
        .unwrap();
    let held = balancer.pick().unwrap();
    let busy = *held;
    for _ in 0..50 {
        assert_ne!(*balancer.pick().unwrap(), busy);
    }
}

fn owners(balancer: &Balancer<String>, keys: u32) -> Vec<String> {
    (0..keys)
        .map(|key| balancer.pick_with_key(&key).unwrap().endpoint().clone())
        .collect()
}

#[test]
fn consistent_hash_is_sticky_and_remaps_about_one_nth() {
    let names: Vec<String> = (0..10).map(|i| format!("10.0.0.{i}:80")).collect();
    let balancer = Balancer::builder()
        .strategy(ConsistentHash::new())
        .endpoints(names.clone())
        .build()
        .unwrap();
    let keys = 20_000;
    let before = owners(&balancer, keys);
    assert_eq!(before, owners(&balancer, keys), "same key, same endpoint");
    // Every endpoint owns about a tenth of the keys.
    for name in &names {
        let share = before.iter().filter(|o| *o == name).count() as f64 / f64::from(keys);
        assert!((0.08..0.12).contains(&share), "{name}: {share}");
    }
    balancer.remove(&names[3]).unwrap();
    let after = owners(&balancer, keys);
    let moved = before.iter().zip(&after).filter(|(b, a)| b != a).count();
    let held = before.iter().filter(|o| **o == names[3]).count();
    assert_eq!(moved, held, "only the removed endpoint's keys move");
    assert!((0.08..0.12).contains(&(moved as f64 / f64::from(keys))));
    // Adding it back restores the original mapping.
    balancer.add(names[3].clone()).unwrap();
    assert_eq!(owners(&balancer, keys), before);
}

#[test]
fn consistent_hash_needs_a_key() {
    let balancer = Balancer::builder()
        .strategy(ConsistentHash::new())
        .endpoints(["a", "b"])
        .build()
        .unwrap();
    assert_eq!(balancer.pick().unwrap_err(), Error::KeyRequired);
    assert!(balancer.pick_with_key("user-1").is_ok());
}

#[test]
fn score_errors_decay_instead_of_blacklisting_forever() {
    let clock = ManualClock::new();
    let balancer = builder(Score::new(), &["a", "b"], &clock)
        .outlier_detection(false)
        .failure_penalty(ms(0))
        .build()
        .unwrap();
    // "a" (first on ties) fails once; "b" takes over.
    assert_eq!(call(&balancer, &clock, ms(5), |_| true), "a");
    assert_eq!(call(&balancer, &clock, ms(5), |_| false), "b");
    assert_eq!(call(&balancer, &clock, ms(5), |_| false), "b");
    // Minutes later the error has decayed below the latency difference.
    clock.advance(secs(300));
    let picked: Vec<_> = (0..5)
        .map(|_| call(&balancer, &clock, ms(5), |_| false))
        .collect();
    assert!(picked.contains(&"a"), "{picked:?}");
}

#[test]
fn consistent_hash_gives_keys_in_proportion_to_weight() {
    let balancer = Balancer::builder()
        .strategy(ConsistentHash::new())
        .weighted_endpoint("heavy", 3)
        .weighted_endpoint("light", 1)
        .build()
        .unwrap();
    let keys = 20_000u32;
    let heavy = (0..keys)
        .filter(|key| *balancer.pick_with_key(key).unwrap() == "heavy")
        .count() as f64
        / f64::from(keys);
    assert!((0.72..0.78).contains(&heavy), "{heavy}");
}

#[test]
fn strategies_without_hashing_ignore_the_key() {
    let balancer = Balancer::builder()
        .strategy(RoundRobin::new())
        .endpoints(["a", "b"])
        .build()
        .unwrap();
    let order: Vec<_> = (0..4)
        .map(|_| *balancer.pick_with_key("same key").unwrap())
        .collect();
    assert_eq!(order, ["a", "b", "a", "b"]);
}

/// The key → endpoint mapping is part of the contract: every instance of a
/// service, built with any Rust release, must send a key to the same
/// endpoint. These owners were computed once; if they change, sticky
/// routing would move between deploys.
#[test]
fn consistent_hash_mapping_is_stable_across_builds() {
    let balancer = Balancer::builder()
        .strategy(ConsistentHash::new())
        .endpoints(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"])
        .build()
        .unwrap();
    let owners: Vec<&str> = ["user-1", "user-2", "user-3", "user-4", "user-5", "user-6"]
        .iter()
        .map(|key| *balancer.pick_with_key(key).unwrap())
        .collect();
    assert_eq!(owners, GOLDEN_OWNERS);
}

const GOLDEN_OWNERS: [&str; 6] = [
    "10.0.0.3:80",
    "10.0.0.1:80",
    "10.0.0.3:80",
    "10.0.0.2:80",
    "10.0.0.3:80",
    "10.0.0.4:80",
];
