//! Feature `metrics`: every sampled point reaches the `metrics` facade as
//! a gauge with its labels.
#![cfg(feature = "metrics")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics::{
    Counter, Gauge, GaugeFn, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use perfect21_monitor::{Monitor, Point, Registry, SampleKinds};

type Values = Arc<Mutex<HashMap<String, f64>>>;

struct Capture(Values);

struct Slot(String, Values);

impl GaugeFn for Slot {
    fn increment(&self, v: f64) {
        *self.1.lock().unwrap().entry(self.0.clone()).or_default() += v;
    }
    fn decrement(&self, v: f64) {
        *self.1.lock().unwrap().entry(self.0.clone()).or_default() -= v;
    }
    fn set(&self, v: f64) {
        self.1.lock().unwrap().insert(self.0.clone(), v);
    }
}

impl Recorder for Capture {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let mut name = key.name().to_owned();
        for l in key.labels() {
            name.push_str(&format!(",{}={}", l.key(), l.value()));
        }
        Gauge::from_arc(Arc::new(Slot(name, Arc::clone(&self.0))))
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[tokio::test(start_paused = true)]
async fn every_point_is_a_gauge() {
    let values = Values::default();
    metrics::set_global_recorder(Capture(Arc::clone(&values))).unwrap();
    let registry = Registry::new();
    registry
        .counter("requests_total", &[("route", "/a")])
        .unwrap()
        .add(7);
    let monitor = Monitor::builder()
        .system(SampleKinds::none())
        .registry(registry)
        .sampler(|out: &mut Vec<Point>| {
            out.push(Point::labelled(
                "disk_used_percent",
                &[("mount", "/")],
                42.0,
            ))
        })
        .build()
        .unwrap()
        .spawn();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    monitor.stop().await;
    let v = values.lock().unwrap();
    assert_eq!(v.get("disk_used_percent,mount=/"), Some(&42.0));
    assert_eq!(v.get("requests_total,route=/a"), Some(&7.0));
    assert_eq!(v.get("requests_total_per_second,route=/a"), Some(&0.0));
}
