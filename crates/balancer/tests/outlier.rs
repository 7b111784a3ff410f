//! The ejection / probation state machine, driven by a manual clock.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use perfect21_balancer::{Balancer, Error, ManualClock, RoundRobin};
use support::{builder, call, ms, secs};

fn stats_of(
    balancer: &Balancer<&'static str>,
    name: &str,
) -> perfect21_balancer::EndpointStats<&'static str> {
    balancer
        .stats()
        .endpoints
        .into_iter()
        .find(|e| e.endpoint == name)
        .expect("endpoint in the set")
}

/// Round robin over a, b, c … where `bad` always fails; 100 % ejection so
/// the cap stays out of the way unless a test sets it.
fn fail_until_ejected(balancer: &Balancer<&'static str>, clock: &ManualClock, bad: &'static str) {
    for _ in 0..100 {
        call(balancer, clock, ms(1), |e| e == bad);
        if stats_of(balancer, bad).ejected {
            return;
        }
    }
    panic!("{bad} was never ejected");
}

#[test]
fn five_consecutive_failures_eject_and_a_success_resets_the_count() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a"], &clock)
        .panic_threshold_percent(0)
        .build()
        .unwrap();
    for _ in 0..4 {
        call(&balancer, &clock, ms(1), |_| true);
    }
    call(&balancer, &clock, ms(1), |_| false);
    for _ in 0..4 {
        call(&balancer, &clock, ms(1), |_| true);
    }
    assert!(
        !stats_of(&balancer, "a").ejected,
        "4 + 4 failures, a success between"
    );
    call(&balancer, &clock, ms(1), |_| true);
    let a = stats_of(&balancer, "a");
    assert!(a.ejected);
    assert_eq!(a.times_ejected, 1);
    assert_eq!(balancer.pick().unwrap_err(), Error::NoAvailableEndpoint);
    assert_eq!(balancer.stats().unavailable, 1);
}

#[test]
fn an_ejected_endpoint_gets_no_traffic_until_its_time_is_up() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a", "b", "c"], &clock)
        .max_ejection_percent(100)
        .build()
        .unwrap();
    fail_until_ejected(&balancer, &clock, "b");
    let before = stats_of(&balancer, "b").requests;
    for _ in 0..60 {
        assert_ne!(call(&balancer, &clock, ms(1), |_| false), "b");
    }
    assert_eq!(stats_of(&balancer, "b").requests, before);
    // 30 s base ejection: at 30 s it is back for a probe.
    clock.advance(secs(30));
    let picked: Vec<_> = (0..3)
        .map(|_| call(&balancer, &clock, ms(1), |_| false))
        .collect();
    assert!(picked.contains(&"b"));
    assert!(!stats_of(&balancer, "b").ejected, "the probe succeeded");
}

#[test]
fn probation_allows_one_probe_at_a_time_and_a_success_readmits() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a"], &clock)
        .consecutive_failures(1)
        .panic_threshold_percent(0)
        .build()
        .unwrap();
    call(&balancer, &clock, ms(1), |_| true);
    clock.advance(secs(30));
    let probe = balancer.pick().unwrap();
    assert!(probe.is_probe());
    let a = stats_of(&balancer, "a");
    assert!(a.ejected && a.on_probation);
    // The probe slot is taken: nothing else goes to "a".
    assert_eq!(balancer.pick().unwrap_err(), Error::NoAvailableEndpoint);
    probe.success();
    let a = stats_of(&balancer, "a");
    assert!(!a.ejected && !a.on_probation);
    let next = balancer.pick().unwrap();
    assert!(!next.is_probe());
    let also = balancer.pick().unwrap();
    assert!(!also.is_probe());
}

#[test]
fn a_cancelled_probe_frees_the_slot_without_readmitting() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a"], &clock)
        .consecutive_failures(1)
        .panic_threshold_percent(0)
        .build()
        .unwrap();
    call(&balancer, &clock, ms(1), |_| true);
    clock.advance(secs(30));
    drop(balancer.pick().unwrap());
    assert!(stats_of(&balancer, "a").on_probation);
    let probe = balancer.pick().unwrap();
    assert!(probe.is_probe());
    probe.success();
    assert!(!stats_of(&balancer, "a").ejected);
}

#[test]
fn a_failed_probe_ejects_again_for_longer_up_to_the_cap() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a"], &clock)
        .consecutive_failures(1)
        .panic_threshold_percent(0)
        .base_ejection_time(secs(10))
        .max_ejection_time(secs(25))
        .build()
        .unwrap();
    call(&balancer, &clock, ms(0), |_| true); // ejected for 10 s
    clock.advance(secs(10));
    call(&balancer, &clock, ms(0), |_| true); // probe fails: 20 s
    clock.advance(secs(19));
    assert!(balancer.pick().is_err(), "second ejection lasts 20 s");
    clock.advance(secs(1));
    call(&balancer, &clock, ms(0), |_| true); // probe fails: 30 s capped to 25 s
    clock.advance(secs(24));
    assert!(balancer.pick().is_err());
    clock.advance(secs(1));
    let probe = balancer.pick().unwrap();
    assert!(probe.is_probe());
    probe.success();
    assert_eq!(stats_of(&balancer, "a").times_ejected, 3);
}

#[test]
fn the_multiplier_decays_after_healthy_periods() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a"], &clock)
        .consecutive_failures(1)
        .panic_threshold_percent(0)
        .base_ejection_time(secs(10))
        .build()
        .unwrap();
    call(&balancer, &clock, ms(0), |_| true); // 10 s
    clock.advance(secs(10));
    call(&balancer, &clock, ms(0), |_| true); // probe fails: 20 s
    clock.advance(secs(20));
    call(&balancer, &clock, ms(0), |_| false); // probe succeeds: back, multiplier 2
    // Soon after, a new ejection continues the series: 30 s.
    call(&balancer, &clock, ms(0), |_| true);
    clock.advance(secs(29));
    assert!(balancer.pick().is_err());
    clock.advance(secs(1));
    call(&balancer, &clock, ms(0), |_| false); // back, multiplier 3
    // Healthy for 30 s (three base periods): the multiplier is back to 0,
    // so the next ejection is a first one again: 10 s.
    clock.advance(secs(30));
    call(&balancer, &clock, ms(0), |_| true);
    clock.advance(secs(10));
    assert!(balancer.pick().unwrap().is_probe());
}

#[test]
fn never_more_than_max_ejection_percent_but_at_least_one_above_zero() {
    let clock = ManualClock::new();
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    let balancer = builder(RoundRobin::new(), &names, &clock)
        .consecutive_failures(1)
        .build()
        .unwrap();
    // Everything fails: 10 % of 10 endpoints is one ejection.
    for _ in 0..100 {
        call(&balancer, &clock, ms(1), |_| true);
    }
    let stats = balancer.stats();
    assert_eq!(stats.ejected_now, 1);
    assert_eq!(stats.ejections, 1);
    // 30 % with 10 endpoints: three.
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &names, &clock)
        .consecutive_failures(1)
        .max_ejection_percent(30)
        .build()
        .unwrap();
    for _ in 0..100 {
        call(&balancer, &clock, ms(1), |_| true);
    }
    assert_eq!(balancer.stats().ejected_now, 3);
    // 1 % of 10 rounds down to none, but one may always go (0 % ejects
    // none: see panic_threshold.rs).
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &names, &clock)
        .consecutive_failures(1)
        .max_ejection_percent(1)
        .build()
        .unwrap();
    for _ in 0..10 {
        call(&balancer, &clock, ms(1), |_| true);
    }
    assert_eq!(balancer.stats().ejected_now, 1);
}

#[test]
fn an_ejected_endpoint_always_comes_back() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a", "b"], &clock)
        .consecutive_failures(1)
        .max_ejection_percent(100)
        .build()
        .unwrap();
    // "a" fails for a long time, then recovers.
    let broken = Arc::new(AtomicBool::new(true));
    for _ in 0..2000 {
        let guard = balancer.pick().unwrap();
        let fail = *guard == "a" && broken.load(Ordering::Relaxed);
        clock.advance(secs(1));
        if fail {
            guard.failure()
        } else {
            guard.success()
        }
    }
    broken.store(false, Ordering::Relaxed);
    // Capped at 300 s: within that, it is probed and returns.
    for _ in 0..400 {
        call(&balancer, &clock, secs(1), |_| false);
    }
    let a = stats_of(&balancer, "a");
    assert!(!a.ejected);
    assert!(a.times_ejected > 3);
}

#[test]
fn a_removed_and_readded_endpoint_starts_fresh() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a", "b"], &clock)
        .consecutive_failures(1)
        .build()
        .unwrap();
    fail_until_ejected(&balancer, &clock, "a");
    balancer.remove(&"a").unwrap();
    balancer.add("a").unwrap();
    let a = stats_of(&balancer, "a");
    assert_eq!((a.requests, a.times_ejected, a.ejected), (0, 0, false));
    assert_eq!(a.ewma_latency, ms(30), "the default RTT");
    // The ejection slot freed by the removal is available again.
    fail_until_ejected(&balancer, &clock, "b");
}

#[test]
fn a_passing_health_check_ends_the_ejection_early() {
    let clock = ManualClock::new();
    let checks = Arc::new(AtomicUsize::new(0));
    let healthy = Arc::new(AtomicBool::new(false));
    let balancer = builder(RoundRobin::new(), &["a"], &clock)
        .consecutive_failures(1)
        .panic_threshold_percent(0)
        .health_check({
            let checks = Arc::clone(&checks);
            let healthy = Arc::clone(&healthy);
            move |endpoint: &&str| {
                assert_eq!(*endpoint, "a");
                checks.fetch_add(1, Ordering::SeqCst);
                healthy.load(Ordering::SeqCst)
            }
        })
        .build()
        .unwrap();
    assert_eq!(
        balancer.run_health_checks(),
        0,
        "nothing ejected: nothing checked"
    );
    assert_eq!(checks.load(Ordering::SeqCst), 0);
    call(&balancer, &clock, ms(1), |_| true);
    assert_eq!(balancer.run_health_checks(), 0);
    assert!(balancer.pick().is_err());
    healthy.store(true, Ordering::SeqCst);
    assert_eq!(balancer.run_health_checks(), 1);
    assert_eq!(checks.load(Ordering::SeqCst), 2);
    let probe = balancer.pick().unwrap();
    assert!(
        probe.is_probe(),
        "a passed check leads to probation, not straight back"
    );
    probe.success();
    assert!(!stats_of(&balancer, "a").ejected);
}

#[test]
fn a_panicking_health_check_counts_as_failed() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a"], &clock)
        .consecutive_failures(1)
        .panic_threshold_percent(0)
        .health_check(|_: &&str| -> bool { panic!("probe blew up") })
        .build()
        .unwrap();
    call(&balancer, &clock, ms(1), |_| true);
    assert_eq!(balancer.run_health_checks(), 0);
    assert!(balancer.pick().is_err());
    clock.advance(secs(30));
    assert!(balancer.pick().unwrap().is_probe());
}

#[test]
fn outlier_detection_can_be_turned_off() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a"], &clock)
        .outlier_detection(false)
        .build()
        .unwrap();
    for _ in 0..50 {
        call(&balancer, &clock, ms(1), |_| true);
    }
    assert!(!stats_of(&balancer, "a").ejected);
}

/// Picks until `name` comes up and fails that request; other picks are
/// dropped unresolved (cancelled: they touch no failure count).
fn fail_once(balancer: &Balancer<&'static str>, clock: &ManualClock, name: &str) {
    for _ in 0..100 {
        let guard = balancer.pick().expect("an endpoint");
        clock.advance(ms(1));
        if *guard == name {
            guard.failure();
            return;
        }
    }
    panic!("{name} never picked");
}

#[test]
fn an_endpoint_refused_by_the_cap_needs_a_fresh_run_of_failures() {
    let clock = ManualClock::new();
    let balancer = builder(RoundRobin::new(), &["a", "b"], &clock)
        .consecutive_failures(3)
        .max_ejection_percent(50)
        .build()
        .unwrap();
    for _ in 0..3 {
        fail_once(&balancer, &clock, "a");
    }
    assert!(stats_of(&balancer, "a").ejected);
    // Three failures of b reach the cap (one of two endpoints): refused,
    // and its run of failures starts over.
    for _ in 0..3 {
        fail_once(&balancer, &clock, "b");
    }
    assert!(!stats_of(&balancer, "b").ejected, "the cap holds");
    assert_eq!(balancer.stats().ejections_overflow, 1);
    // Six more: two fresh runs, two refusals — not a retry (and a trip
    // through the outlier lock) on every failure.
    for _ in 0..6 {
        fail_once(&balancer, &clock, "b");
    }
    assert_eq!(balancer.stats().ejections_overflow, 3);
    // The cap frees: a's ejection ends and its probe succeeds.
    clock.advance(secs(30));
    loop {
        let guard = balancer.pick().unwrap();
        if guard.is_probe() {
            guard.success();
            break;
        }
    }
    assert!(!stats_of(&balancer, "a").ejected);
    // One more failure is not three in a row since the refusal.
    fail_once(&balancer, &clock, "b");
    assert!(
        !stats_of(&balancer, "b").ejected,
        "one failure after the refusal"
    );
    fail_once(&balancer, &clock, "b");
    fail_once(&balancer, &clock, "b");
    assert!(stats_of(&balancer, "b").ejected, "a fresh run of three");
    assert_eq!(balancer.stats().ejections, 2);
    assert_eq!(balancer.stats().ejections_overflow, 3);
}
