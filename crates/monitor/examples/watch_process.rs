//! Watch this process: real CPU and memory, a request-latency histogram, an
//! alert rule that fires when P95 goes above 10 ms, and a Prometheus page.
//!
//! `cargo run -p perfect21-monitor --example watch_process`
#![allow(clippy::print_stdout)]

use std::time::Duration;

use perfect21_monitor::{AlertRule, ChannelSink, Monitor, Registry, SampleKinds, TracingSink};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let registry = Registry::new();
    let requests = registry.counter("requests_total", &[])?;
    let latency = registry.histogram("request_latency_seconds", &[])?;

    let (alerts, mut received) = ChannelSink::new(16);
    let monitor = Monitor::builder()
        .interval(Duration::from_millis(200))
        .system(SampleKinds {
            process: true,
            ..SampleKinds::cpu_and_memory()
        })
        .registry(registry.clone())
        // Fires on the first interval whose P95 is above 10 ms.
        .rule(
            AlertRule::above("slow_requests", "request_latency_seconds_p95", 0.010)
                .for_duration(Duration::ZERO),
        )
        .sink(TracingSink)
        .sink(alerts)
        .build()?
        .spawn();

    // "Requests": CPU-bound work that takes ~15 ms each, recorded as it ends.
    let handler = tokio::task::spawn_blocking(move || {
        for _ in 0..40 {
            let started = std::time::Instant::now();
            let mut x = 0u64;
            while started.elapsed() < Duration::from_millis(15) {
                x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
            }
            requests.add(1);
            latency.record(started.elapsed());
        }
    });
    handler.await?;

    // The alert arrives through the channel sink (and the log, via tracing).
    let alert = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await?
        .ok_or("the monitor stopped")?;
    println!("alert: {}", alert.message());
    assert_eq!(alert.rule, "slow_requests");
    assert!(alert.value > 0.010);

    // The snapshot is the last tick's sample; the Prometheus page reads the
    // registry live.
    let snapshot = monitor.snapshot();
    let rss = snapshot
        .get("process_resident_memory_bytes")
        .ok_or("RSS sampled")?;
    println!("process RSS {:.1} MiB", rss / (1024.0 * 1024.0));
    println!("{}", monitor.report(Duration::from_secs(60)).text());
    let page = monitor.render_prometheus();
    assert!(page.contains("requests_total 40"));
    monitor.stop().await;
    Ok(())
}
