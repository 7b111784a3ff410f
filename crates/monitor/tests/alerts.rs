//! The alert state machine, driven by a fake sampler on tokio's paused
//! clock: for_duration, escalation, repeat, resolve, no flapping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use perfect21_monitor::{
    AlertEvent, AlertRule, AlertSink, AlertState, ChannelSink, Monitor, MonitorError,
    MonitorHandle, Point, SampleKinds, Severity, SinkError,
};
use tokio::sync::mpsc::Receiver;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::time::sleep;

/// A sampler reporting whatever the test last set.
#[derive(Clone)]
struct Fake(Arc<Mutex<f64>>);

impl Fake {
    fn new(v: f64) -> Self {
        Self(Arc::new(Mutex::new(v)))
    }
    fn set(&self, v: f64) {
        *self.0.lock().unwrap() = v;
    }
}

fn start(fake: &Fake, rule: AlertRule) -> (MonitorHandle, Receiver<AlertEvent>) {
    let (sink, rx) = ChannelSink::new(64);
    let f = fake.clone();
    let monitor = Monitor::builder()
        .interval(Duration::from_secs(1))
        .system(SampleKinds::none())
        .sampler(move |out: &mut Vec<Point>| {
            out.push(Point::new("queue_depth", *f.0.lock().unwrap()))
        })
        .rules([rule])
        .sink(sink)
        .build()
        .unwrap()
        .spawn();
    (monitor, rx)
}

fn assert_quiet(rx: &mut Receiver<AlertEvent>) {
    match rx.try_recv() {
        Err(TryRecvError::Empty) => {}
        other => panic!("expected no event, got {other:?}"),
    }
}

fn next(rx: &mut Receiver<AlertEvent>) -> AlertEvent {
    rx.try_recv().expect("an event")
}

/// Ticks run at t = 0, 1, 2, … s; the test looks at t = n + 0.5 s.
#[tokio::test(start_paused = true)]
async fn fires_after_for_duration_escalates_repeats_resolves_once() {
    let fake = Fake::new(90.0);
    let rule = AlertRule::above("deep_queue", "queue_depth", 80.0)
        .for_duration(Duration::from_secs(10))
        .repeat_interval(Duration::from_secs(60))
        .hysteresis(0.1);
    assert_eq!(rule.critical_threshold(), 96.0); // 1.2 × warning
    let (monitor, mut rx) = start(&fake, rule);

    // Breaching since t=0: still pending at t=9.
    sleep(Duration::from_millis(9_500)).await;
    assert_quiet(&mut rx);
    sleep(Duration::from_secs(1)).await; // t=10.5
    let e = next(&mut rx);
    assert_eq!(
        (e.state, e.severity),
        (AlertState::Firing, Severity::Warning)
    );
    assert_eq!((e.value, e.threshold), (90.0, 80.0));
    assert_eq!(e.active_seconds, 10.0);
    assert_quiet(&mut rx);

    // Critical from t=11 on: escalates once it has held 10 s, at t=21.
    fake.set(100.0);
    sleep(Duration::from_secs(10)).await; // t=20.5
    assert_quiet(&mut rx);
    sleep(Duration::from_secs(1)).await; // t=21.5
    let e = next(&mut rx);
    assert_eq!(
        (e.state, e.severity),
        (AlertState::Escalated, Severity::Critical)
    );
    assert_eq!(e.threshold, 96.0);

    // Repeats 60 s after the last notification (t=81), not before.
    sleep(Duration::from_secs(59)).await; // t=80.5
    assert_quiet(&mut rx);
    sleep(Duration::from_secs(1)).await; // t=81.5
    let e = next(&mut rx);
    assert_eq!(
        (e.state, e.severity),
        (AlertState::Repeat, Severity::Critical)
    );

    // Hovering just under the threshold (inside the 10 % band): no resolve,
    // no new alerts.
    for i in 0..20 {
        fake.set(if i % 2 == 0 { 79.0 } else { 81.0 });
        sleep(Duration::from_secs(1)).await;
    }
    assert_quiet(&mut rx);

    // Clearly below 72 (80 - 10 %): resolved exactly once.
    fake.set(50.0);
    sleep(Duration::from_secs(1)).await;
    let e = next(&mut rx);
    assert_eq!(e.state, AlertState::Resolved);
    assert_eq!(e.value, 50.0);
    sleep(Duration::from_secs(30)).await;
    assert_quiet(&mut rx);

    monitor.stop().await;
    let stats = monitor.stats();
    assert_eq!(stats.alerts, 4);
    assert_eq!(stats.sink_deliveries, 4);
    assert_eq!(stats.sink_failures, 0);
    assert_eq!(monitor.alerts(Duration::from_secs(3600)).len(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_value_hovering_at_the_threshold_never_fires() {
    let fake = Fake::new(79.0);
    let rule =
        AlertRule::above("deep_queue", "queue_depth", 80.0).for_duration(Duration::from_secs(5));
    let (monitor, mut rx) = start(&fake, rule);
    // Noisy samples above the threshold, never 5 s in a row.
    for i in 0..60 {
        fake.set(if i % 4 == 3 { 79.0 } else { 85.0 });
        sleep(Duration::from_secs(1)).await;
    }
    assert_quiet(&mut rx);
    monitor.stop().await;
    assert_eq!(monitor.stats().alerts, 0);
}

#[tokio::test(start_paused = true)]
async fn below_rules_and_zero_for_duration() {
    let fake = Fake::new(5.0);
    let rule = AlertRule::below("few_workers", "queue_depth", 10.0)
        .for_duration(Duration::ZERO)
        .critical(2.0);
    let (monitor, mut rx) = start(&fake, rule);
    sleep(Duration::from_millis(500)).await;
    let e = next(&mut rx);
    assert_eq!(
        (e.state, e.severity),
        (AlertState::Firing, Severity::Warning)
    );
    fake.set(1.0);
    sleep(Duration::from_secs(1)).await;
    let e = next(&mut rx);
    assert_eq!(
        (e.state, e.severity),
        (AlertState::Escalated, Severity::Critical)
    );
    fake.set(10.4); // above 10 but inside the 5 % band
    sleep(Duration::from_secs(1)).await;
    assert_quiet(&mut rx);
    fake.set(11.0);
    sleep(Duration::from_secs(1)).await;
    assert_eq!(next(&mut rx).state, AlertState::Resolved);
    monitor.stop().await;
}

struct Failing;

#[async_trait::async_trait]
impl AlertSink for Failing {
    fn name(&self) -> &str {
        "failing"
    }
    async fn send(&self, _: &AlertEvent) -> Result<(), SinkError> {
        Err(SinkError::Other("down".into()))
    }
}

struct Panicking;

#[async_trait::async_trait]
impl AlertSink for Panicking {
    fn name(&self) -> &str {
        "panicking"
    }
    async fn send(&self, _: &AlertEvent) -> Result<(), SinkError> {
        panic!("sink bug")
    }
}

#[tokio::test(start_paused = true)]
async fn failing_and_panicking_sinks_are_counted_and_do_not_block_others() {
    let fake = Fake::new(100.0);
    let (sink, mut rx) = ChannelSink::new(64);
    let f = fake.clone();
    let monitor = Monitor::builder()
        .interval(Duration::from_secs(1))
        .system(SampleKinds::none())
        .sampler(move |out: &mut Vec<Point>| {
            out.push(Point::new("queue_depth", *f.0.lock().unwrap()))
        })
        .rules([AlertRule::above("q", "queue_depth", 80.0)
            .for_duration(Duration::ZERO)
            .repeat_interval(Duration::from_secs(1))])
        .sink(Failing)
        .sink(Panicking)
        .sink(sink)
        .build()
        .unwrap()
        .spawn();
    sleep(Duration::from_millis(2_500)).await; // ticks 0, 1, 2: fire + 2 repeats
    monitor.stop().await;
    let mut got = 0;
    while rx.try_recv().is_ok() {
        got += 1;
    }
    assert_eq!(got, 3);
    let s = monitor.stats();
    assert_eq!(s.alerts, 3);
    assert_eq!(s.sink_deliveries, 3);
    assert_eq!(s.sink_failures, 6);
    assert_eq!(s.ticks, 3);
}

#[test]
fn invalid_configuration_names_the_field() {
    let field = |r: Result<Monitor, MonitorError>| match r {
        Err(MonitorError::InvalidConfig { field, .. }) => field,
        other => panic!("expected InvalidConfig, got {other:?}"),
    };
    let base = || Monitor::builder().system(SampleKinds::none());
    assert_eq!(field(base().interval(Duration::ZERO).build()), "interval");
    assert_eq!(
        field(base().history_capacity(0).build()),
        "history_capacity"
    );
    assert_eq!(field(base().sink_queue(0).build()), "sink_queue");
    assert_eq!(
        field(base().history_max_series(0).build()),
        "history_max_series"
    );
    assert_eq!(
        field(base().series_absent_after(Duration::ZERO).build()),
        "series_absent_after"
    );
    assert_eq!(
        field(
            base()
                .rule(AlertRule::above("r", "m", 1.0).hysteresis(0.9))
                .build()
        ),
        "rule.hysteresis"
    );
    assert_eq!(
        field(
            base()
                .rule(AlertRule::above("r", "m", 10.0).critical(5.0))
                .build()
        ),
        "rule.critical"
    );
    assert_eq!(
        field(base().rule(AlertRule::above("r", "m", f64::NAN)).build()),
        "rule.warning"
    );
    assert_eq!(
        field(
            base()
                .rule(AlertRule::above("r", "m", 1.0).repeat_interval(Duration::ZERO))
                .build()
        ),
        "rule.repeat_interval"
    );
    assert_eq!(
        field(base().rule(AlertRule::above("", "m", 1.0)).build()),
        "rule.name"
    );
}

#[test]
fn default_rules_match_the_guide() {
    let rules = AlertRule::defaults();
    let find = |metric: &str| {
        rules
            .iter()
            .find(|r| r.metric() == metric)
            .map(|r| r.warning_threshold())
    };
    assert_eq!(find("cpu_usage_percent"), Some(80.0));
    assert_eq!(find("memory_used_percent"), Some(85.0));
    assert_eq!(find("disk_used_percent"), Some(90.0));
    assert_eq!(find("request_latency_seconds_p95"), Some(1.0));
    assert_eq!(find("error_rate_percent"), Some(5.0));
    assert_eq!(find("db_connections"), Some(100.0));
}

#[tokio::test(start_paused = true)]
async fn an_overrun_skips_ticks_instead_of_stacking_them() {
    let fake = Fake::new(0.0);
    let (monitor, _rx) = start(&fake, AlertRule::above("r", "queue_depth", 1.0));
    sleep(Duration::from_millis(500)).await; // tick at t=0
    assert_eq!(monitor.stats().ticks, 1);
    // The clock jumps 5 s while the loop cannot run, as if a tick overran.
    tokio::time::advance(Duration::from_secs(5)).await;
    sleep(Duration::from_secs(2)).await; // t = 7.5
    let s = monitor.stats();
    // One late tick at 5.5, then 6 and 7: the missed ones are not replayed.
    assert_eq!(s.ticks, 4, "{s:?}");
    assert_eq!(s.skipped_ticks, 4, "{s:?}");
    monitor.stop().await;
}
