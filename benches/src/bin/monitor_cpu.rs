//! What criterion does not measure for perfect21-monitor, written to
//! `target/perfect21-results/monitor.json` for `cargo xtask bench`: the
//! process CPU time (`perfect21_benches::cpu::process_cpu`; the loop runs on
//! a current-thread runtime, and the thread count is checked to stay 1) over 60 s, once idle and once with the
//! monitor loop running at a 1 s interval with everything sampled and the
//! default alert rules, as a share of one core.
//!
//! Run: `cargo run --release -p perfect21-benches --bin monitor_cpu [SECONDS]`.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use perfect21_benches::cpu::process_cpu;
use perfect21_benches::results::{self, Record};
use perfect21_monitor::{Monitor, SampleKinds};

const BENCH: &str = "monitor";

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

fn share_of_one_core(span: impl FnOnce()) -> f64 {
    let cpu0 = process_cpu();
    let t0 = Instant::now();
    span();
    let cpu = process_cpu() - cpu0;
    cpu.as_secs_f64() / t0.elapsed().as_secs_f64() * 100.0
}

fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(60);
    let span = Duration::from_secs(secs);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let idle = share_of_one_core(|| rt.block_on(async { tokio::time::sleep(span).await }));
    eprintln!("idle: {idle:.3} % of one core over {secs} s");

    let mut ticks = 0;
    let with_monitor = share_of_one_core(|| {
        rt.block_on(async {
            let monitor = Monitor::builder()
                .interval(Duration::from_secs(1))
                .system(SampleKinds::all())
                .build()
                .expect("monitor")
                .spawn();
            tokio::time::sleep(span).await;
            monitor.stop().await;
            ticks = monitor.stats().ticks;
            assert_eq!(thread_count(), 1, "the measurement assumes one thread");
        })
    });
    eprintln!("monitor: {with_monitor:.3} % of one core over {secs} s ({ticks} ticks)");

    let case = |what: &str| format!("{what}, {secs} s");
    let records = [
        Record::new(BENCH, case("idle process"), "CPU of one core", idle, "%"),
        Record::new(
            BENCH,
            case("monitor loop at 1 s, everything sampled"),
            "CPU of one core",
            with_monitor,
            "%",
        ),
        Record::new(
            BENCH,
            case("monitor loop cost (difference)"),
            "CPU of one core",
            with_monitor - idle,
            "%",
        ),
        Record::new(BENCH, case("monitor loop"), "ticks", ticks as f64, "ticks"),
    ];
    let path = results::write(BENCH, &records).expect("write results");
    eprintln!("wrote {}", path.display());
}
