//! What a guard records, and where.

mod support;

use perfect21_balancer::{Balancer, ManualClock, RoundRobin};
use support::{builder, ms};

#[test]
fn outcomes_and_cancellations_are_counted_per_endpoint_and_in_total() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a", "b"], &clock)
        .outlier_detection(false)
        .build()
        .unwrap();
    let g1 = balancer.pick().unwrap(); // a
    let g2 = balancer.pick().unwrap(); // b
    let g3 = balancer.pick().unwrap(); // a
    let stats = balancer.stats();
    assert_eq!((stats.requests, stats.in_flight), (3, 3));
    assert_eq!(stats.endpoints[0].in_flight, 2);
    clock.advance(ms(7));
    g1.success();
    g2.failure();
    drop(g3);
    let stats = balancer.stats();
    assert_eq!(
        (
            stats.requests,
            stats.successes,
            stats.failures,
            stats.cancelled,
            stats.in_flight
        ),
        (3, 1, 1, 1, 0)
    );
    let a = &stats.endpoints[0];
    assert_eq!(
        (
            a.requests,
            a.successes,
            a.failures,
            a.cancelled,
            a.in_flight
        ),
        (2, 1, 0, 1, 0)
    );
    let b = &stats.endpoints[1];
    assert_eq!(
        (b.requests, b.successes, b.failures, b.cancelled),
        (1, 0, 1, 0)
    );
    assert!((b.error_rate() - 1.0).abs() < f64::EPSILON);
    assert!((stats.error_rate() - 0.5).abs() < f64::EPSILON);
}

#[test]
fn the_guard_measures_latency_on_the_balancer_clock() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a"], &clock)
        .default_rtt(ms(1))
        .build()
        .unwrap();
    let guard = balancer.pick().unwrap();
    clock.advance(ms(40));
    assert_eq!(guard.elapsed(), ms(40));
    guard.success();
    // A sample slower than the estimate replaces it (peak sensitivity).
    assert_eq!(balancer.stats().endpoints[0].ewma_latency, ms(40));
}

#[test]
fn a_guard_of_a_removed_endpoint_never_touches_the_new_set() {
    // tower#856: a stale index recorded the outcome on another endpoint.
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a", "b", "c"], &clock)
        .outlier_detection(false)
        .build()
        .unwrap();
    let on_a = balancer.pick().unwrap();
    assert_eq!(*on_a, "a");
    balancer.remove(&"a").unwrap();
    // Index 0 is now "b"; the old guard still belongs to "a".
    assert_eq!(*on_a, "a");
    on_a.failure();
    let stats = balancer.stats();
    assert!(
        stats
            .endpoints
            .iter()
            .all(|e| e.requests == 0 && e.failures == 0)
    );
    assert_eq!(
        (stats.requests, stats.failures),
        (1, 1),
        "totals keep the removed endpoint's request"
    );
}

#[test]
fn in_flight_counts_survive_a_rebuild_of_the_set() {
    let balancer = Balancer::builder()
        .strategy(RoundRobin::new())
        .endpoints(["a", "b"])
        .build()
        .unwrap();
    let held: Vec<_> = (0..4).map(|_| balancer.pick().unwrap()).collect();
    balancer.add("c").unwrap();
    balancer.set_weight(&"b", 3).unwrap();
    let stats = balancer.stats();
    assert_eq!(stats.endpoints[0].in_flight, 2);
    assert_eq!(stats.endpoints[1].in_flight, 2);
    drop(held);
    let stats = balancer.stats();
    assert_eq!(stats.endpoints[0].cancelled, 2);
    assert_eq!(stats.endpoints[1].in_flight, 0);
}
