//! Property test: for any sequence of samples, the alerts obey the rule's
//! contract (checked against a simple reference of what must hold).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use perfect21_monitor::{
    AlertRule, AlertState, ChannelSink, Monitor, Point, SampleKinds, Severity,
};
use proptest::prelude::*;

const FOR: u64 = 3; // seconds
const REPEAT: u64 = 7;
const WARN: f64 = 80.0;
const CRIT: f64 = 96.0;
const CLEAR: f64 = 72.0; // 10 % hysteresis

/// Runs the monitor over `values` (one per one-second tick) and returns,
/// per tick, the events it produced.
fn run(values: &[f64]) -> Vec<Vec<(AlertState, Severity)>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let script = Arc::new(Mutex::new((values.to_vec(), 0usize)));
        let s = Arc::clone(&script);
        let (sink, mut rx) = ChannelSink::new(1024);
        let monitor = Monitor::builder()
            .interval(Duration::from_secs(1))
            .system(SampleKinds::none())
            .sampler(move |out: &mut Vec<Point>| {
                let mut g = s.lock().unwrap();
                let (values, i) = &mut *g;
                if let Some(v) = values.get(*i) {
                    out.push(Point::new("x", *v));
                }
                *i += 1;
            })
            .rules([AlertRule::above("r", "x", WARN)
                .for_duration(Duration::from_secs(FOR))
                .repeat_interval(Duration::from_secs(REPEAT))
                .hysteresis(0.1)])
            .sink(sink)
            .build()
            .unwrap()
            .spawn();
        let mut per_tick = Vec::new();
        tokio::time::sleep(Duration::from_millis(500)).await;
        for _ in 0..values.len() {
            let mut events = Vec::new();
            while let Ok(e) = rx.try_recv() {
                events.push((e.state, e.severity));
            }
            per_tick.push(events);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        monitor.stop().await;
        per_tick
    })
}

fn values() -> impl Strategy<Value = Vec<f64>> {
    // Mostly around the thresholds, where the rules must hold firm.
    prop::collection::vec(
        prop_oneof![
            Just(50.0),
            Just(75.0),
            Just(79.0),
            Just(81.0),
            Just(90.0),
            Just(97.0),
            Just(100.0),
            60.0..110.0f64,
        ],
        1..60,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn alerts_follow_the_contract(values in values()) {
        let ticks = run(&values);
        let mut firing = false;
        let mut last_sent: Option<usize> = None;
        for (t, events) in ticks.iter().enumerate() {
            prop_assert!(events.len() <= 1, "tick {t}: {events:?}");
            let v = values[t];
            // How long the value has been above warning / critical.
            let streak = |threshold: f64| values[..=t].iter().rev().take_while(|x| **x > threshold).count() as u64;
            match events.first() {
                Some((AlertState::Firing, sev)) => {
                    prop_assert!(!firing, "tick {t}: fired twice");
                    prop_assert!(streak(WARN) > FOR, "tick {t}: fired after {} breaching samples", streak(WARN));
                    prop_assert_eq!(*sev == Severity::Critical, streak(CRIT) > FOR);
                    firing = true;
                    last_sent = Some(t);
                }
                Some((AlertState::Escalated, sev)) => {
                    prop_assert!(firing);
                    prop_assert_eq!(*sev, Severity::Critical);
                    prop_assert!(streak(CRIT) > FOR);
                    last_sent = Some(t);
                }
                Some((AlertState::Repeat, _)) => {
                    prop_assert!(firing);
                    prop_assert!(t - last_sent.unwrap() >= REPEAT as usize);
                    last_sent = Some(t);
                }
                Some((AlertState::Resolved, _)) => {
                    prop_assert!(firing, "tick {t}: resolved without firing");
                    prop_assert!(v < CLEAR, "tick {t}: resolved at {v}");
                    firing = false;
                }
                None => {
                    if firing {
                        prop_assert!(v >= CLEAR, "tick {t}: {v} should have resolved");
                        prop_assert!(t - last_sent.unwrap() < REPEAT as usize, "tick {t}: repeat missing");
                    } else {
                        prop_assert!(streak(WARN) <= FOR, "tick {t}: should have fired");
                    }
                }
            }
        }
    }
}
