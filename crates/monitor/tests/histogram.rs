//! LatencyHistogram, Counter and Gauge under concurrency: exact totals,
//! percentiles within the configured precision.

use std::sync::Arc;
use std::sync::Barrier;
use std::time::Duration;

use perfect21_monitor::{Counter, Gauge, LatencyHistogram, MonitorError, Registry};

const THREADS: u64 = 8;
const PER_THREAD: u64 = 50_000;
const DISTINCT: u64 = 10_000;

#[test]
fn eight_threads_exact_count_and_percentiles() {
    let h = LatencyHistogram::builder()
        .significant_figures(3)
        .highest(Duration::from_secs(10))
        .build()
        .unwrap();
    let barrier = Arc::new(Barrier::new(THREADS as usize));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let h = h.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                for i in 0..PER_THREAD {
                    // Every thread covers 1..=DISTINCT µs uniformly.
                    h.record_value((i + t * 7) % DISTINCT + 1);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = h.snapshot();
    assert_eq!(s.count, THREADS * PER_THREAD);
    // Uniform over 1..=10000 µs: the true q-quantile is q × 10000 µs.
    for (got, q) in [(s.p50, 0.5), (s.p90, 0.9), (s.p95, 0.95), (s.p99, 0.99)] {
        let truth = q * DISTINCT as f64 / 1e6;
        // 3 significant figures: within 0.1 % plus one unit of rounding.
        let tol = truth * 0.001 + 2e-6;
        assert!((got - truth).abs() <= tol, "q={q}: {got} vs {truth}");
    }
    assert!((s.min - 1e-6).abs() < 1e-9);
    assert!((s.max - DISTINCT as f64 / 1e6).abs() <= DISTINCT as f64 / 1e6 * 0.001);
}

#[test]
fn durations_are_recorded_in_microseconds_and_clamped() {
    let h = LatencyHistogram::builder()
        .highest(Duration::from_secs(1))
        .build()
        .unwrap();
    h.record(Duration::from_millis(250));
    h.record(Duration::from_secs(30)); // clamped to the range
    let s = h.snapshot();
    assert_eq!(s.count, 2);
    assert!((s.p50 - 0.25).abs() < 0.001);
    assert!(s.max <= 1.001);
    h.reset();
    assert_eq!(h.snapshot().count, 0);
    assert_eq!(h.time(|| 7), 7);
    assert_eq!(h.snapshot().count, 1);
}

#[test]
fn invalid_histogram_options_name_the_field() {
    let e = LatencyHistogram::builder()
        .significant_figures(6)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            e,
            MonitorError::InvalidConfig {
                field: "significant_figures",
                ..
            }
        ),
        "{e}"
    );
    let e = LatencyHistogram::builder()
        .highest(Duration::from_micros(1))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            e,
            MonitorError::InvalidConfig {
                field: "highest",
                ..
            }
        ),
        "{e}"
    );
    let e = LatencyHistogram::builder().shards(0).build().unwrap_err();
    assert!(
        matches!(
            e,
            MonitorError::InvalidConfig {
                field: "shards",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn counters_and_gauges_are_exact_under_threads() {
    let c = Counter::new();
    let g = Gauge::new();
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (c, g) = (c.clone(), g.clone());
            std::thread::spawn(move || {
                for _ in 0..PER_THREAD {
                    c.increment();
                    g.add(1.0);
                }
                for _ in 0..PER_THREAD / 2 {
                    g.add(-1.0);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(c.get(), THREADS * PER_THREAD);
    assert_eq!(g.get(), (THREADS * PER_THREAD / 2) as f64);
}

#[test]
fn registry_returns_the_same_metric_and_refuses_other_kinds() {
    let r = Registry::new();
    r.counter("hits", &[("shard", "1")]).unwrap().add(3);
    r.counter("hits", &[("shard", "1")]).unwrap().add(4);
    assert_eq!(r.counter("hits", &[("shard", "1")]).unwrap().get(), 7);
    // Other labels: another series of the same counter.
    assert_eq!(r.counter("hits", &[("shard", "2")]).unwrap().get(), 0);
    let e = r.gauge("hits", &[("shard", "3")]).unwrap_err();
    assert!(
        matches!(
            e,
            MonitorError::KindMismatch {
                existing: "counter",
                ..
            }
        ),
        "{e}"
    );
    assert!(r.histogram("hits", &[]).is_err());
    // Label order does not matter.
    r.gauge("depth", &[("a", "1"), ("b", "2")])
        .unwrap()
        .set(5.0);
    assert_eq!(
        r.gauge("depth", &[("b", "2"), ("a", "1")]).unwrap().get(),
        5.0
    );
    assert_eq!(r.read().len(), 3);
}
