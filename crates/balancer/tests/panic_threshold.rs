//! The panic threshold (Envoy's `healthy_panic_threshold`): when too few
//! endpoints are healthy, traffic goes over all of them instead of being
//! refused; and a 0 % ejection cap ejects nothing.

mod support;

use perfect21_balancer::{Balancer, Error, ManualClock, RoundRobin};
use support::{builder, call, ms, secs};

fn ejected(balancer: &Balancer<&'static str>, name: &str) -> bool {
    balancer
        .stats()
        .endpoints
        .iter()
        .any(|e| e.endpoint == name && e.ejected)
}

#[test]
fn a_single_endpoint_with_the_defaults_keeps_taking_traffic_after_its_ejection() {
    let clock = ManualClock::new();
    let balancer = Balancer::builder()
        .endpoint("only")
        .clock(clock.clone())
        .build()
        .unwrap();
    for _ in 0..5 {
        call(&balancer, &clock, ms(1), |_| true);
    }
    assert!(
        ejected(&balancer, "only"),
        "five failures in a row eject it"
    );
    // Nothing else to route to: below the 50 % panic threshold the
    // balancer routes over every endpoint, ejected or not.
    for _ in 0..10 {
        let guard = balancer.pick().expect("panic routing, not a refusal");
        assert_eq!(*guard, "only");
        assert!(!guard.is_probe());
        guard.success();
    }
    let stats = balancer.stats();
    assert_eq!(stats.unavailable, 0);
    assert_eq!(stats.panic_routed, 10);
    assert!(
        ejected(&balancer, "only"),
        "still ejected: panic routing is not a return"
    );
    // When its ejection is over, the probe still decides its return.
    clock.advance(secs(30));
    let probe = balancer.pick().unwrap();
    assert!(probe.is_probe());
    probe.success();
    assert!(!ejected(&balancer, "only"));
    let before = balancer.stats().panic_routed;
    call(&balancer, &clock, ms(1), |_| false);
    assert_eq!(
        balancer.stats().panic_routed,
        before,
        "healthy again: no panic"
    );
}

#[test]
fn below_the_threshold_every_endpoint_gets_traffic_and_at_it_none_is_forced() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a", "b", "c", "d"], &clock)
        .consecutive_failures(1)
        .max_ejection_percent(100)
        .panic_threshold_percent(50)
        .build()
        .unwrap();
    // Eject a and b: half of the endpoints healthy is not below 50 %.
    call(&balancer, &clock, ms(1), |e| e == "a");
    call(&balancer, &clock, ms(1), |e| e == "b");
    assert!(ejected(&balancer, "a") && ejected(&balancer, "b"));
    for _ in 0..8 {
        let picked = call(&balancer, &clock, ms(1), |_| false);
        assert!(picked == "c" || picked == "d", "{picked}");
    }
    assert_eq!(balancer.stats().panic_routed, 0);
    // A third ejection: 25 % healthy, below the threshold.
    let mut third = None;
    for _ in 0..4 {
        let picked = call(&balancer, &clock, ms(1), |e| e == "c");
        if picked == "c" {
            third = Some(picked);
            break;
        }
    }
    assert_eq!(third, Some("c"));
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..8 {
        seen.insert(call(&balancer, &clock, ms(1), |_| false));
    }
    assert_eq!(
        seen.len(),
        4,
        "panic routing reaches every endpoint: {seen:?}"
    );
    assert_eq!(balancer.stats().panic_routed, 8);
}

#[test]
fn a_zero_panic_threshold_turns_panic_routing_off() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a"], &clock)
        .consecutive_failures(1)
        .panic_threshold_percent(0)
        .build()
        .unwrap();
    call(&balancer, &clock, ms(1), |_| true);
    assert_eq!(balancer.pick().unwrap_err(), Error::NoAvailableEndpoint);
    assert_eq!(balancer.stats().panic_routed, 0);
}

#[test]
fn a_zero_ejection_cap_ejects_nothing() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a", "b"], &clock)
        .consecutive_failures(1)
        .max_ejection_percent(0)
        .build()
        .unwrap();
    for _ in 0..10 {
        call(&balancer, &clock, ms(1), |_| true);
    }
    let stats = balancer.stats();
    assert_eq!(stats.ejected_now, 0);
    assert_eq!(stats.ejections, 0);
}
