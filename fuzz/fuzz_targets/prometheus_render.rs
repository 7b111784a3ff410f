//! `render_prometheus` on arbitrary metrics: any UTF-8 in metric names,
//! label names and values (quotes, backslashes, newlines), any value (NaN,
//! infinities, subnormals), names that collide once sanitised, a summary's
//! `_sum`/`_count` names taken by other metrics. Whatever the input, the
//! output must parse with the strict exposition parser of
//! `perfect21_fuzz::exposition`, and every counter whose name and labels
//! need no sanitising and collide with nothing must appear with its value.
#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use perfect21_fuzz::exposition::{self, valid_label_name, valid_metric_name};
use perfect21_monitor::{LatencyHistogram, Point, Registry, render_prometheus};

#[derive(Debug, Arbitrary)]
enum Value {
    Counter(u64),
    Gauge(f64),
    /// Latencies in microseconds.
    Histogram(Vec<u32>),
}

#[derive(Debug, Arbitrary)]
struct Metric {
    name: String,
    labels: Vec<(String, String)>,
    value: Value,
}

#[derive(Debug, Arbitrary)]
struct Sampled {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

#[derive(Debug, Arbitrary)]
struct Input {
    metrics: Vec<Metric>,
    points: Vec<Sampled>,
}

fn labels(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs.iter().take(6).map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// A metric name as the renderer sanitises it (a loose copy: only used to
/// leave out of the value check the counters another name may shadow).
fn sanitized(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == ':' { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

fn small_histogram() -> LatencyHistogram {
    LatencyHistogram::builder()
        .shards(1)
        .significant_figures(2)
        .highest(Duration::from_secs(60))
        .build()
        .expect("valid options")
}

fuzz_target!(|input: Input| {
    let registry = Registry::new();
    for metric in input.metrics.iter().take(24) {
        let labels = labels(&metric.labels);
        // A name already taken by another kind is refused: that is fine.
        match &metric.value {
            Value::Counter(n) => {
                if let Ok(c) = registry.counter(&metric.name, &labels) {
                    c.add(*n);
                }
            }
            Value::Gauge(v) => {
                if let Ok(g) = registry.gauge(&metric.name, &labels) {
                    g.set(*v);
                }
            }
            Value::Histogram(values) => {
                if let Ok(h) = registry.register_histogram(&metric.name, &labels, small_histogram()) {
                    for v in values.iter().take(16) {
                        h.record_value(u64::from(*v));
                    }
                }
            }
        }
    }
    let points: Vec<Point> = input
        .points
        .iter()
        .take(24)
        .map(|p| Point::labelled(p.name.clone(), &labels(&p.labels), p.value))
        .collect();
    let text = render_prometheus(&registry, &points);
    let parsed = match exposition::parse(&text) {
        Ok(parsed) => parsed,
        Err(e) => panic!("invalid exposition: {e}\n--- input ---\n{input:?}\n--- output ---\n{text}"),
    };
    // A counter written as it is (valid name and label names, alone under
    // its name, not a summary's _sum/_count) keeps its value.
    let metrics = registry.metrics();
    for (key, metric) in &metrics {
        let perfect21_monitor::Metric::Counter(counter) = metric else {
            continue;
        };
        let plain = valid_metric_name(&key.name)
            && key.labels.iter().all(|(k, _)| valid_label_name(k))
            && key.labels.windows(2).all(|w| w[0].0 != w[1].0)
            && metrics.iter().all(|(other, _)| {
                other == key || !key.name.starts_with(sanitized(&other.name).as_str())
            });
        if !plain {
            continue;
        }
        let found = parsed.samples.iter().find(|s| {
            s.name == key.name && {
                let mut labels = s.labels.clone();
                labels.sort();
                labels == key.labels
            }
        });
        match found {
            Some(sample) => assert_eq!(sample.value, counter.get() as f64, "{text}"),
            None => panic!("counter {key} missing\n{text}"),
        }
    }
});
