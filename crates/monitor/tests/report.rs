//! Application metrics through the loop (rates, per-interval percentiles,
//! error rate), history summaries, reports, and the memory probe.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use perfect21_monitor::{
    AlertRule, MemoryProbe, Monitor, Point, Recommendation, Registry, SampleKinds, SeriesKey, Stat,
};
use tokio::time::sleep;

#[tokio::test(start_paused = true)]
async fn counters_become_rates_and_histograms_per_interval_percentiles() {
    let registry = Registry::new();
    let requests = registry
        .counter("requests_total", &[("route", "/a")])
        .unwrap();
    let requests_b = registry
        .counter("requests_total", &[("route", "/b")])
        .unwrap();
    let errors = registry.counter("errors_total", &[]).unwrap();
    let latency = registry.histogram("request_latency_seconds", &[]).unwrap();
    let db = registry.gauge("db_connections", &[]).unwrap();
    let cpu = Arc::new(Mutex::new(90.0));
    let c = Arc::clone(&cpu);
    let monitor = Monitor::builder()
        .interval(Duration::from_secs(1))
        .system(SampleKinds::none())
        .registry(registry.clone())
        .sampler(move |out: &mut Vec<Point>| {
            out.push(Point::new("cpu_usage_percent", *c.lock().unwrap()))
        })
        .rules([AlertRule::above("high_cpu", "cpu_usage_percent", 80.0)
            .for_duration(Duration::from_secs(5))])
        .build()
        .unwrap()
        .spawn();
    // Each second: 100 requests (+ 50 on /b), 10 errors, latencies of
    // 10 ms except during second 5 (2 s each).
    for second in 0..10 {
        sleep(Duration::from_millis(if second == 0 { 500 } else { 1000 })).await;
        requests.add(100);
        requests_b.add(50);
        errors.add(10);
        db.set(f64::from(second));
        for _ in 0..100 {
            latency.record(if second == 5 {
                Duration::from_secs(2)
            } else {
                Duration::from_millis(10)
            });
        }
    }
    sleep(Duration::from_secs(1)).await; // t = 10.5: ticks 0..=10 ran
    let snap = monitor.snapshot();
    assert_eq!(
        snap.value("requests_total", &[("route", "/a")]),
        Some(1000.0)
    );
    assert_eq!(
        snap.value("requests_total_per_second", &[("route", "/a")]),
        Some(100.0)
    );
    assert_eq!(
        snap.value("requests_total_per_second", &[("route", "/b")]),
        Some(50.0)
    );
    assert_eq!(snap.get("request_rate_per_second"), Some(150.0));
    let err_rate = snap.get("error_rate_percent").unwrap();
    assert!((err_rate - 100.0 * 10.0 / 150.0).abs() < 1e-9, "{err_rate}");
    assert_eq!(snap.get("db_connections"), Some(9.0));
    // Only the last second's latencies: 10 ms, not the 2 s of second 5.
    let p95 = snap.get("request_latency_seconds_p95").unwrap();
    assert!((p95 - 0.010).abs() < 0.0001, "{p95}");
    assert_eq!(snap.get("request_latency_seconds_per_second"), Some(100.0));

    // The history kept the slow second.
    let history = monitor.history();
    let key = SeriesKey::plain("request_latency_seconds_p95");
    let s = history.summary(&key, Duration::from_secs(60)).unwrap();
    assert_eq!(s.count, 10);
    assert!((s.max - 2.0).abs() < 0.002);
    assert!((s.min - 0.010).abs() < 0.0001);
    assert!((s.current - 0.010).abs() < 0.0001);
    // A narrower window drops older points.
    let recent = history.summary(&key, Duration::from_secs(3)).unwrap();
    assert_eq!(recent.count, 3); // ticks 8, 9 and 10
    assert!(recent.max < 0.1);

    let report = monitor.report(Duration::from_secs(3600));
    assert_eq!(report.system.cpu_percent.unwrap().avg, 90.0);
    assert_eq!(report.api.request_rate.unwrap().current, 150.0);
    assert_eq!(report.alerts.fired, 1);
    assert!(
        report
            .recommendations
            .iter()
            .any(|r| r.contains("add workers")),
        "{:?}",
        report.recommendations
    );
    assert!(
        report
            .recommendations
            .iter()
            .any(|r| r.contains("error rate"))
    );
    assert!(report.recommendations.iter().any(|r| r.contains("P95")));
    let text = report.text();
    for section in [
        "System",
        "API",
        "Errors",
        "Recommendations",
        "CPU %",
        "requests/s",
    ] {
        assert!(text.contains(section), "{section} missing from\n{text}");
    }
    assert!(
        text.contains("memory %                     not measured"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = monitor
        .write_report(dir.path(), Duration::from_secs(3600))
        .unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("report-20") && name.ends_with(".txt"),
        "{name}"
    );
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("Recommendations")
    );
    let json_path = monitor
        .write_report(dir.path().join("r.json"), Duration::from_secs(3600))
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(json_path).unwrap()).unwrap();
    assert_eq!(json["system"]["cpu_percent"]["avg"], 90.0);
    assert_eq!(json["alerts"]["events"][0]["rule"], "high_cpu");

    let prom = monitor.render_prometheus();
    assert!(prom.contains("# TYPE requests_total counter"));
    assert!(prom.contains("cpu_usage_percent 90\n"));
    // Derived points stay out of the export (Prometheus computes rates).
    assert!(!prom.contains("requests_total_per_second"));
    monitor.stop().await;
}

#[tokio::test(start_paused = true)]
async fn history_is_bounded_and_recommendations_configurable() {
    let monitor = Monitor::builder()
        .interval(Duration::from_secs(1))
        .history_capacity(5)
        .system(SampleKinds::none())
        .sampler(|out: &mut Vec<Point>| out.push(Point::new("free_workers", 1.0)))
        .rules([])
        .recommendations([Recommendation::below(
            "free_workers",
            Stat::Max,
            2.0,
            "grow the pool",
        )])
        .build()
        .unwrap()
        .spawn();
    sleep(Duration::from_millis(20_500)).await;
    let h = monitor.history();
    let s = h
        .summary(&SeriesKey::plain("free_workers"), Duration::from_secs(3600))
        .unwrap();
    assert_eq!(s.count, 5);
    assert_eq!(monitor.stats().ticks, 21);
    let report = monitor.report(Duration::from_secs(60));
    assert_eq!(report.recommendations.len(), 1);
    assert!(report.recommendations[0].contains("grow the pool"));
    monitor.stop().await;
    monitor.stop().await; // idempotent
}

#[test]
fn memory_probe_sees_a_large_allocation() {
    let probe = MemoryProbe::with_threshold("ballast", 1024);
    assert!(probe.rss_before().unwrap() > 0);
    let ballast = vec![7u8; 32 << 20];
    let growth = probe.finish();
    assert!(growth > 16 << 20, "grew {growth} bytes");
    assert_eq!(ballast[12345], 7);
    let v = MemoryProbe::measure("small", || vec![1u8; 1024].len());
    assert_eq!(v, 1024);
}

#[tokio::test(start_paused = true)]
async fn history_keeps_a_bounded_number_of_series_and_counts_the_rest() {
    // One new series per tick (a label with unbounded values).
    let mut tick = 0u64;
    let monitor = Monitor::builder()
        .interval(Duration::from_secs(1))
        .history_max_series(3)
        .system(SampleKinds::none())
        .sampler(move |out: &mut Vec<Point>| {
            let id = tick.to_string();
            out.push(Point::labelled("seen_user", &[("user", &id)], 1.0));
            tick += 1;
        })
        .rules([])
        .build()
        .unwrap()
        .spawn();
    sleep(Duration::from_millis(9_500)).await; // ten ticks
    let history = monitor.history();
    assert_eq!(history.keys().len(), 3);
    assert_eq!(history.max_series(), 3);
    assert_eq!(monitor.stats().history_dropped, 7);
    assert_eq!(history.dropped(), 7);
    monitor.stop().await;
}

#[tokio::test(start_paused = true)]
async fn history_holds_ten_thousand_series_by_default() {
    let monitor = Monitor::builder()
        .system(SampleKinds::none())
        .sampler(|out: &mut Vec<Point>| {
            for id in 0..10_050 {
                let id = id.to_string();
                out.push(Point::labelled("seen_user", &[("user", &id)], 1.0));
            }
        })
        .rules([])
        .build()
        .unwrap()
        .spawn();
    sleep(Duration::from_millis(500)).await; // the first tick
    assert_eq!(monitor.history().keys().len(), 10_000);
    monitor.stop().await;
}
