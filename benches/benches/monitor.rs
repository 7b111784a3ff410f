//! perfect21-monitor's hot paths beside their plain alternatives.
//!
//! Groups:
//! * `monitor/record_1_thread`, `monitor/record_2_threads` — recording one
//!   value into a latency histogram from one thread, and from two threads
//!   at once into the same histogram: `LatencyHistogram` (lock-striped
//!   shards, one per thread) beside a plain `Mutex<hdrhistogram::Histogram>`
//!   (same precision and range). Time per recorded value.
//! * `monitor/sample` — one `SystemSampler` sample with everything
//!   refreshed (`perfect21`) against CPU + memory only
//!   (`perfect21_cpu_memory`).
//!
//! The loop's CPU cost over 60 s is measured by `src/bin/monitor_cpu.rs`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use hdrhistogram::Histogram;
use perfect21_monitor::{LatencyHistogram, SampleKinds, SystemSampler};

const HIGHEST_MICROS: u64 = 60_000_000;
const SIGFIG: u8 = 3;

/// Something that records one value from any thread.
trait Record: Sync {
    fn record(&self, micros: u64);
}

impl Record for LatencyHistogram {
    #[inline]
    fn record(&self, micros: u64) {
        self.record_value(micros);
    }
}

impl Record for Mutex<Histogram<u64>> {
    #[inline]
    fn record(&self, micros: u64) {
        self.lock().expect("not poisoned").saturating_record(micros);
    }
}

fn ours() -> LatencyHistogram {
    LatencyHistogram::builder()
        .significant_figures(SIGFIG)
        .highest(Duration::from_micros(HIGHEST_MICROS))
        .build()
        .expect("valid histogram")
}

fn plain() -> Mutex<Histogram<u64>> {
    Mutex::new(Histogram::new_with_bounds(1, HIGHEST_MICROS, SIGFIG).expect("valid bounds"))
}

/// A spread of latencies, 1 µs to ~100 ms, so records hit many buckets.
#[inline]
fn value(i: u64) -> u64 {
    (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 47) + 1
}

type Group<'a> = BenchmarkGroup<'a, WallTime>;

fn run_threads<R: Record>(group: &mut Group<'_>, name: &str, h: &R, threads: usize) {
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = Barrier::new(threads);
            std::thread::scope(|scope| {
                let workers: Vec<_> = (0..threads as u64)
                    .map(|t| {
                        let start = &start;
                        scope.spawn(move || {
                            start.wait();
                            let began = Instant::now();
                            for i in 0..iters {
                                h.record(black_box(value(i ^ (t << 40))));
                            }
                            began.elapsed()
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .map(|w| w.join().expect("bench thread"))
                    .max()
                    .unwrap_or(Duration::ZERO)
            })
        })
    });
}

fn record_1_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("monitor/record_1_thread");
    group.throughput(Throughput::Elements(1));
    let (a, b) = (ours(), plain());
    let mut i = 0u64;
    group.bench_function("perfect21", |bench| {
        bench.iter(|| {
            i = i.wrapping_add(1);
            a.record_value(black_box(value(i)))
        })
    });
    group.bench_function("hdrhistogram", |bench| {
        bench.iter(|| {
            i = i.wrapping_add(1);
            Record::record(&b, black_box(value(i)))
        })
    });
    group.finish();
}

fn record_2_threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("monitor/record_2_threads");
    // One iteration is one record on each of the two threads.
    group.throughput(Throughput::Elements(2));
    run_threads(&mut group, "perfect21", &ours(), 2);
    run_threads(&mut group, "hdrhistogram", &plain(), 2);
    group.finish();
}

fn sample(c: &mut Criterion) {
    let mut group = c.benchmark_group("monitor/sample");
    group.throughput(Throughput::Elements(1));
    for (name, kinds) in [
        ("perfect21", SampleKinds::all()),
        ("perfect21_cpu_memory", SampleKinds::cpu_and_memory()),
    ] {
        let mut sampler = SystemSampler::with_kinds(kinds).expect("sampler");
        sampler.sample_now();
        group.bench_function(name, |b| b.iter(|| black_box(sampler.sample_now())));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = record_1_thread, record_2_threads, sample
}
criterion_main!(benches);
