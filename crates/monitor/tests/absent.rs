//! Series that stop reporting: a firing alert on one resolves after
//! `series_absent_after`, and a pending one is forgotten (tokio's paused
//! clock drives the loop).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use perfect21_monitor::{
    AlertEvent, AlertRule, AlertState, ChannelSink, Monitor, MonitorHandle, Point, SampleKinds,
};
use tokio::sync::mpsc::Receiver;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::time::sleep;

/// A sampler reporting `error_rate_percent` only while it holds a value,
/// as the monitor itself emits it only while there are requests.
#[derive(Clone, Default)]
struct Sometimes(Arc<Mutex<Option<f64>>>);

impl Sometimes {
    fn set(&self, value: Option<f64>) {
        *self.0.lock().unwrap() = value;
    }
}

fn start(
    series: &Sometimes,
    rule: AlertRule,
    absent_after: Option<Duration>,
) -> (MonitorHandle, Receiver<AlertEvent>) {
    let (sink, rx) = ChannelSink::new(64);
    let source = series.clone();
    let mut builder = Monitor::builder()
        .interval(Duration::from_secs(1))
        .system(SampleKinds::none())
        .sampler(move |out: &mut Vec<Point>| {
            if let Some(v) = *source.0.lock().unwrap() {
                out.push(Point::new("error_rate_percent", v));
            }
        })
        .rules([rule])
        .sink(sink);
    if let Some(after) = absent_after {
        builder = builder.series_absent_after(after);
    }
    (builder.build().unwrap().spawn(), rx)
}

fn quiet(rx: &mut Receiver<AlertEvent>) -> bool {
    matches!(rx.try_recv(), Err(TryRecvError::Empty))
}

#[tokio::test(start_paused = true)]
async fn a_firing_alert_whose_series_stops_reporting_resolves() {
    let series = Sometimes::default();
    series.set(Some(40.0));
    let rule = AlertRule::above("errors", "error_rate_percent", 5.0)
        .for_duration(Duration::ZERO)
        .repeat_interval(Duration::from_secs(3600));
    // The default: five minutes (three 1 s intervals are shorter).
    let (monitor, mut rx) = start(&series, rule, None);
    sleep(Duration::from_millis(2_500)).await; // ticks at 0, 1, 2 s
    let fired = rx.try_recv().expect("firing");
    assert_eq!(fired.state, AlertState::Firing);
    assert!(!fired.absent);
    // Traffic stops: the series is no longer emitted (last seen at t=2).
    series.set(None);
    sleep(Duration::from_secs(298)).await; // t=300.5
    assert!(quiet(&mut rx), "absent 298.5 s: not yet");
    sleep(Duration::from_secs(2)).await; // t=302.5: absent 300 s at t=302
    let resolved = rx.try_recv().expect("resolved after 5 min without a point");
    assert_eq!(resolved.state, AlertState::Resolved);
    assert!(resolved.absent);
    assert_eq!(resolved.value, 40.0, "the last value reported");
    assert_eq!(resolved.active_seconds, 302.0);
    assert!(
        resolved.message().contains("stopped reporting"),
        "{}",
        resolved.message()
    );
    // Resolved once, not again.
    sleep(Duration::from_secs(600)).await;
    assert!(quiet(&mut rx));
    monitor.stop().await;
    let stats = monitor.stats();
    assert_eq!(stats.resolved_absent, 1);
    assert_eq!(stats.alerts, 2);
}

#[tokio::test(start_paused = true)]
async fn a_pending_series_that_vanishes_starts_over_when_it_returns() {
    let series = Sometimes::default();
    series.set(Some(40.0));
    let rule =
        AlertRule::above("errors", "error_rate_percent", 5.0).for_duration(Duration::from_secs(10));
    let (monitor, mut rx) = start(&series, rule, Some(Duration::from_secs(30)));
    sleep(Duration::from_millis(3_500)).await; // pending since t=0
    series.set(None);
    sleep(Duration::from_secs(60)).await; // gone: its state is dropped
    series.set(Some(40.0)); // back at t=64: pending from t=64, not t=0
    sleep(Duration::from_secs(9)).await; // t=72.5
    assert!(quiet(&mut rx), "the condition has held 9 s, not 72 s");
    sleep(Duration::from_secs(2)).await; // t=74.5
    let fired = rx.try_recv().expect("fires 10 s after its return");
    assert_eq!(fired.state, AlertState::Firing);
    assert_eq!(fired.active_seconds, 10.0);
    monitor.stop().await;
    assert_eq!(monitor.stats().resolved_absent, 0, "it was never firing");
}

#[test]
fn series_absent_after_is_validated_against_the_interval() {
    let build = |interval: u64, after: Duration| {
        Monitor::builder()
            .system(SampleKinds::none())
            .interval(Duration::from_secs(interval))
            .series_absent_after(after)
            .build()
    };
    for (interval, after) in [
        (10, Duration::from_secs(9)),
        (1, Duration::from_secs(8 * 86_400)),
    ] {
        match build(interval, after) {
            Err(perfect21_monitor::MonitorError::InvalidConfig { field, .. }) => {
                assert_eq!(field, "series_absent_after");
            }
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }
    assert!(build(10, Duration::from_secs(10)).is_ok());
}
