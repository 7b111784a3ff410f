//! perfect21-monitor's hot paths beside their peers.
//!
//! The histogram peers, all with the same precision (3 significant
//! figures) and range (1 µs – 60 s):
//! * `hdrhistogram_mutex` — one `hdrhistogram::Histogram` behind a `Mutex`;
//! * `hdrhistogram_sync` — hdrhistogram's own `SyncHistogram` in its best
//!   configuration: one `Recorder` per recording thread (no lock on the
//!   record path), the reader collecting their samples with `refresh()`.
//!
//! Groups:
//! * `monitor/record_1_thread`, `monitor/record_2_threads` — recording one
//!   value, from one thread and from two threads at once into the same
//!   histogram. Time per recorded value.
//! * `monitor/read` — the read side: count, min, max, mean and the
//!   p50/p90/p95/p99/p99.9 of a histogram holding 100 000 values recorded
//!   from four threads. Ours is `snapshot()` (merge the shards, then
//!   read); the mutex peer reads under its lock; the sync peer is
//!   `refresh()` (its recorders done, so it waits for none) then reads its
//!   merged histogram.
//! * `monitor/read_under_load` — the same read while another thread
//!   records without pause (the sync peer's `refresh()` then waits for that
//!   recorder's next value, which hands over its samples).
//! * `monitor/sample` — one `SystemSampler` sample with everything
//!   refreshed (`perfect21`) against CPU + memory only
//!   (`perfect21_cpu_memory`).
//!
//! The loop's CPU cost over 60 s is measured by `src/bin/monitor_cpu.rs`.
#![allow(missing_docs)]

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use hdrhistogram::Histogram;
use hdrhistogram::sync::SyncHistogram;
use perfect21_monitor::{LatencyHistogram, SampleKinds, SystemSampler};

const HIGHEST_MICROS: u64 = 60_000_000;
const SIGFIG: u8 = 3;

fn ours() -> LatencyHistogram {
    LatencyHistogram::builder()
        .significant_figures(SIGFIG)
        .highest(Duration::from_micros(HIGHEST_MICROS))
        .build()
        .expect("valid histogram")
}

fn plain() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_MICROS, SIGFIG).expect("valid bounds")
}

fn mutex() -> Mutex<Histogram<u64>> {
    Mutex::new(plain())
}

fn sync() -> SyncHistogram<u64> {
    plain().into_sync()
}

/// A spread of latencies, 1 µs to ~100 ms, so records hit many buckets.
#[inline]
fn value(i: u64) -> u64 {
    (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 47) + 1
}

/// What a snapshot reads from a merged histogram (as `snapshot()` does).
#[inline]
fn figures(h: &Histogram<u64>) -> [f64; 9] {
    [
        h.len() as f64,
        h.min() as f64,
        h.max() as f64,
        h.mean(),
        h.value_at_quantile(0.5) as f64,
        h.value_at_quantile(0.9) as f64,
        h.value_at_quantile(0.95) as f64,
        h.value_at_quantile(0.99) as f64,
        h.value_at_quantile(0.999) as f64,
    ]
}

type Group<'a> = BenchmarkGroup<'a, WallTime>;

/// Times `threads` threads recording `iters` values each at once, each
/// through its own writer from `writers` (made before the clock starts);
/// `after` runs once the threads are done (outside the time).
fn run_threads<W, M, A>(
    group: &mut Group<'_>,
    name: &str,
    threads: usize,
    mut writers: M,
    mut after: A,
) where
    W: FnMut(u64) + Send,
    M: FnMut() -> Vec<W>,
    A: FnMut(),
{
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = Barrier::new(threads);
            let elapsed = std::thread::scope(|scope| {
                let workers: Vec<_> = writers()
                    .into_iter()
                    .enumerate()
                    .map(|(t, mut write)| {
                        let start = &start;
                        scope.spawn(move || {
                            start.wait();
                            let began = Instant::now();
                            for i in 0..iters {
                                write(black_box(value(i ^ ((t as u64) << 40))));
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
            });
            after();
            elapsed
        })
    });
}

fn record_1_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("monitor/record_1_thread");
    group.throughput(Throughput::Elements(1));
    let (a, b, mut sync) = (ours(), mutex(), sync());
    let mut recorder = sync.recorder();
    let mut i = 0u64;
    group.bench_function("perfect21", |bench| {
        bench.iter(|| {
            i = i.wrapping_add(1);
            a.record_value(black_box(value(i)))
        })
    });
    group.bench_function("hdrhistogram_mutex", |bench| {
        bench.iter(|| {
            i = i.wrapping_add(1);
            b.lock()
                .expect("not poisoned")
                .saturating_record(black_box(value(i)))
        })
    });
    group.bench_function("hdrhistogram_sync", |bench| {
        bench.iter(|| {
            i = i.wrapping_add(1);
            recorder.saturating_record(black_box(value(i)))
        })
    });
    drop(recorder);
    sync.refresh();
    group.finish();
}

fn record_2_threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("monitor/record_2_threads");
    // One iteration is one record on each of the two threads.
    group.throughput(Throughput::Elements(2));
    let a = ours();
    run_threads(
        &mut group,
        "perfect21",
        2,
        || (0..2).map(|_| |v: u64| a.record_value(v)).collect(),
        || {},
    );
    let b = mutex();
    run_threads(
        &mut group,
        "hdrhistogram_mutex",
        2,
        || {
            (0..2)
                .map(|_| |v: u64| b.lock().expect("not poisoned").saturating_record(v))
                .collect()
        },
        || {},
    );
    // One recorder per thread; after each batch the reader collects what
    // the finished recorders handed over, so nothing piles up.
    let sync = RefCell::new(sync());
    run_threads(
        &mut group,
        "hdrhistogram_sync",
        2,
        || {
            (0..2)
                .map(|_| {
                    let mut recorder = sync.borrow().recorder();
                    move |v: u64| recorder.saturating_record(v)
                })
                .collect()
        },
        || sync.borrow_mut().refresh(),
    );
    group.finish();
}

/// 100 000 values recorded from four threads (so into several shards of
/// ours, and through four recorders of the sync peer).
fn filled() -> (LatencyHistogram, Mutex<Histogram<u64>>, SyncHistogram<u64>) {
    let (a, b, mut c) = (ours(), mutex(), sync());
    std::thread::scope(|scope| {
        for t in 0..4u64 {
            let (a, b) = (&a, &b);
            let mut recorder = c.recorder();
            scope.spawn(move || {
                for i in 0..25_000 {
                    let v = value(i ^ (t << 40));
                    a.record_value(v);
                    b.lock().expect("not poisoned").saturating_record(v);
                    recorder.saturating_record(v);
                }
            });
        }
    });
    c.refresh();
    (a, b, c)
}

fn read(c: &mut Criterion) {
    let mut group = c.benchmark_group("monitor/read");
    group.throughput(Throughput::Elements(1));
    let (a, b, mut sync) = filled();
    group.bench_function("perfect21", |bench| bench.iter(|| black_box(a.snapshot())));
    group.bench_function("hdrhistogram_mutex", |bench| {
        bench.iter(|| black_box(figures(&b.lock().expect("not poisoned"))))
    });
    group.bench_function("hdrhistogram_sync", |bench| {
        bench.iter(|| {
            sync.refresh();
            black_box(figures(&sync))
        })
    });
    group.finish();
}

/// Runs `read` under criterion while one more thread records without pause
/// through `write`.
fn with_a_writer<W: FnMut(u64) + Send>(
    group: &mut Group<'_>,
    name: &str,
    mut write: W,
    mut read: impl FnMut(),
) {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let stop = &stop;
        scope.spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i = i.wrapping_add(1);
                write(value(i));
            }
        });
        group.bench_function(name, |bench| bench.iter(&mut read));
        stop.store(true, Ordering::Relaxed);
    });
}

fn read_under_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("monitor/read_under_load");
    group.throughput(Throughput::Elements(1));
    let (a, b, mut sync) = filled();
    with_a_writer(
        &mut group,
        "perfect21",
        |v| a.record_value(v),
        || {
            black_box(a.snapshot());
        },
    );
    with_a_writer(
        &mut group,
        "hdrhistogram_mutex",
        |v| b.lock().expect("not poisoned").saturating_record(v),
        || {
            black_box(figures(&b.lock().expect("not poisoned")));
        },
    );
    let mut recorder = sync.recorder();
    with_a_writer(
        &mut group,
        "hdrhistogram_sync",
        move |v: u64| recorder.saturating_record(v),
        || {
            sync.refresh();
            black_box(figures(&sync));
        },
    );
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
    targets = record_1_thread, record_2_threads, read, read_under_load, sample
}
criterion_main!(benches);
