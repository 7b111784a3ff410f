//! perfect21-lru beside `lru`, `schnellru`, `quick_cache` and `moka`, on the
//! same workloads in the same groups:
//!
//! * `lru/get_hit` — look up keys that are all present (90 000 keys in a
//!   cache of capacity 100 000);
//! * `lru/insert_evict` — insert new keys into a full cache (each insert
//!   evicts);
//! * `lru/zipf_1_thread` — Zipf(0.99) keys over 10 × the capacity, 90 %
//!   gets / 10 % inserts, one thread;
//! * `lru/zipf_2_threads` — the same with two threads on one shared cache
//!   (`lru` and `schnellru` in a `parking_lot::Mutex`).
//!
//! The hit ratio of each cache on the Zipf stream is measured by the
//! `lru_zipf` program (`cargo xtask bench lru` runs it), memory per entry by
//! `lru_memory`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use parking_lot::Mutex;
use perfect21_benches::lru::contenders::{self, Alone, Shared, Single, apply_shared, apply_single};
use perfect21_benches::lru::zipf::{self, CAPACITY, GET_PERCENT, KEYS, Op, S};

fn ours() -> perfect21_lru::LruCache<u64, u64> {
    contenders::ours(CAPACITY)
}
fn ours_concurrent() -> perfect21_lru::ConcurrentLru<u64, u64> {
    contenders::ours_concurrent(CAPACITY)
}
fn lru_crate() -> lru::LruCache<u64, u64> {
    contenders::lru_crate(CAPACITY)
}
fn schnellru() -> schnellru::LruMap<u64, u64> {
    contenders::schnellru(CAPACITY)
}
fn quick_unsync() -> quick_cache::unsync::Cache<u64, u64> {
    contenders::quick_unsync(CAPACITY)
}
fn quick_sync() -> quick_cache::sync::Cache<u64, u64> {
    contenders::quick_sync(CAPACITY)
}
fn moka() -> moka::sync::Cache<u64, u64> {
    contenders::moka(CAPACITY)
}

/// Runs `body(group, name, make, extra…)` for every single-threaded
/// contender.
macro_rules! each_single {
    ($group:expr, $body:ident $(, $extra:expr)*) => {
        $body($group, "perfect21", ours $(, $extra)*);
        $body($group, "perfect21_concurrent", || Alone(ours_concurrent()) $(, $extra)*);
        $body($group, "lru", lru_crate $(, $extra)*);
        $body($group, "schnellru", schnellru $(, $extra)*);
        $body($group, "quick_cache", quick_unsync $(, $extra)*);
        $body($group, "moka", || Alone(moka()) $(, $extra)*);
    };
}

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Keys present in the get-hit workload: 90 % of the capacity, so that the
/// sharded caches (whose shards each hold a share of the capacity) keep all
/// of them; in a scrambled order (a multiplicative permutation).
fn present_keys() -> Vec<u64> {
    let n = CAPACITY as u64 * 9 / 10;
    // 7919 is prime and does not divide 90 000: i ↦ i·7919 mod n permutes.
    (0..n).map(|i| (i * 7919) % n).collect()
}

fn get_hit(c: &mut Criterion) {
    let mut group = c.benchmark_group("lru/get_hit");
    group.throughput(Throughput::Elements(1));
    fn run<C: Single>(group: &mut Group<'_>, name: &str, make: impl Fn() -> C) {
        let mut cache = make();
        let keys = present_keys();
        keys.iter().for_each(|&k| cache.insert(k));
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % keys.len();
                assert!(cache.get(keys[i]));
            })
        });
    }
    each_single!(&mut group, run);
    group.finish();
}

fn insert_evict(c: &mut Criterion) {
    let mut group = c.benchmark_group("lru/insert_evict");
    group.throughput(Throughput::Elements(1));
    fn run<C: Single>(group: &mut Group<'_>, name: &str, make: impl Fn() -> C) {
        let mut cache = make();
        (0..CAPACITY as u64).for_each(|k| cache.insert(k));
        let mut next = CAPACITY as u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                next += 1;
                cache.insert(next);
            })
        });
    }
    each_single!(&mut group, run);
    group.finish();
}

/// Operations per Zipf stream (a power of two, replayed cyclically).
const STREAM: usize = 1 << 20;

fn streams() -> [Vec<Op>; 2] {
    [
        zipf::ops(KEYS, S, GET_PERCENT, STREAM, 1),
        zipf::ops(KEYS, S, GET_PERCENT, STREAM, 2),
    ]
}

fn zipf_1_thread(c: &mut Criterion) {
    let [ops, _] = streams();
    let mut group = c.benchmark_group("lru/zipf_1_thread");
    group.throughput(Throughput::Elements(1));
    fn run<C: Single>(group: &mut Group<'_>, name: &str, make: impl Fn() -> C, ops: &[Op]) {
        let mut cache = make();
        // Warm: fill the cache with the stream's own mix.
        ops.iter().for_each(|&op| {
            apply_single(&mut cache, op);
        });
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) & (STREAM - 1);
                black_box(apply_single(&mut cache, ops[i]));
            })
        });
    }
    each_single!(&mut group, run, &ops);
    group.finish();
}

fn zipf_2_threads(c: &mut Criterion) {
    let streams = streams();
    let mut group = c.benchmark_group("lru/zipf_2_threads");
    // One iteration is one operation on each of the two threads.
    group.throughput(Throughput::Elements(2));
    fn run<C: Shared>(group: &mut Group<'_>, name: &str, cache: C, streams: &[Vec<Op>; 2]) {
        streams.iter().for_each(|s| {
            s.iter().for_each(|&op| {
                apply_shared(&cache, op);
            })
        });
        let mut offset = 0usize;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Barrier::new(2);
                let (cache, start) = (&cache, &start);
                let from = offset;
                offset = offset.wrapping_add(iters as usize);
                std::thread::scope(|scope| {
                    let workers: Vec<_> = streams
                        .iter()
                        .map(|ops| {
                            scope.spawn(move || {
                                start.wait();
                                let began = Instant::now();
                                for i in 0..iters as usize {
                                    black_box(apply_shared(cache, ops[(from + i) & (STREAM - 1)]));
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
    run(&mut group, "perfect21", ours_concurrent(), &streams);
    run(&mut group, "lru", Mutex::new(lru_crate()), &streams);
    run(&mut group, "schnellru", Mutex::new(schnellru()), &streams);
    run(&mut group, "quick_cache", quick_sync(), &streams);
    run(&mut group, "moka", moka(), &streams);
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = get_hit, insert_evict, zipf_1_thread, zipf_2_threads
}
criterion_main!(benches);
