//! perfect21-object-pool beside the other Rust object pools and plain
//! allocation, on one workload: get a `Vec<u8>` buffer (64 B or 64 KiB of
//! capacity), touch one byte per 4 KiB page of it, give it back cleared.
//! Pools without a reset hook get the `clear()` from the bench, so every row
//! does the same work.
//!
//! Groups:
//! * `object_pool/get_drop_1_thread` — one thread, get + drop;
//! * `object_pool/get_drop_2_threads` — two threads doing the same at once
//!   on one shared pool (time per iteration = both threads' one op);
//! * `object_pool/cross_thread` — a producer thread gets buffers in batches
//!   of 64 and sends them to a consumer thread that drops them (objects
//!   return on another thread than the one that took them);
//! * `object_pool/stats` — perfect21 with its counters on and off.
#![allow(missing_docs)]

use std::hint::black_box;
use std::ops::DerefMut;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use perfect21_object_pool::{ObjectPool, Reset};

const SIZES: [(usize, &str); 2] = [(64, "64B"), (64 * 1024, "64KiB")];
const PAGE: usize = 4096;
const BATCH: usize = 64;

/// The work done on each buffer: make sure it has `size` bytes of capacity
/// (a pool that keeps its objects already has), then write one byte in
/// every 4 KiB page, so a fresh allocation pays its page faults. The byte
/// moves one cache line further in each page (`page * (4096 + 64)`), as a
/// sequential writer's would, rather than all landing in one L1 set.
#[inline(always)]
fn touch(buffer: &mut Vec<u8>, size: usize) {
    if buffer.capacity() < size {
        buffer.reserve(size);
    }
    let spare = buffer.spare_capacity_mut();
    for page in 0..size.div_ceil(PAGE) {
        if let Some(byte) = spare.get_mut(page * PAGE + (page * 64) % PAGE) {
            byte.write(1);
        }
    }
    black_box(buffer);
}

/// Every pool may keep `IDLE` objects: more than the cross-thread workload
/// has in flight (a batch being filled, two queued, one being dropped).
const IDLE: usize = 8 * BATCH;

fn ours(size: usize, stats: bool) -> ObjectPool<Vec<u8>> {
    ObjectPool::builder(move || Vec::with_capacity(size))
        .reset(Reset::reset)
        .max_idle(IDLE)
        .stats(stats)
        .build()
        .expect("valid pool")
}

struct Peers {
    linear: Arc<lockfree_object_pool::LinearObjectPool<Vec<u8>>>,
    mutex: Arc<lockfree_object_pool::MutexObjectPool<Vec<u8>>>,
    object_pool: Arc<object_pool::Pool<Vec<u8>>>,
    opool: Arc<opool::Pool<Alloc, Vec<u8>>>,
    deadpool: deadpool::unmanaged::Pool<Vec<u8>>,
    sharded_slab: Arc<sharded_slab::Pool<Vec<u8>>>,
}

struct Alloc(usize);

impl opool::PoolAllocator<Vec<u8>> for Alloc {
    fn allocate(&self) -> Vec<u8> {
        Vec::with_capacity(self.0)
    }
    fn reset(&self, buffer: &mut Vec<u8>) {
        buffer.clear();
    }
}

impl Peers {
    fn new(size: usize) -> Self {
        let deadpool = deadpool::unmanaged::Pool::new(IDLE);
        for _ in 0..IDLE {
            deadpool
                .try_add(Vec::with_capacity(size))
                .map_err(|_| "deadpool add")
                .expect("room for the prefill");
        }
        Self {
            linear: Arc::new(lockfree_object_pool::LinearObjectPool::new(
                move || Vec::with_capacity(size),
                |buffer: &mut Vec<u8>| buffer.clear(),
            )),
            mutex: Arc::new(lockfree_object_pool::MutexObjectPool::new(
                move || Vec::with_capacity(size),
                |buffer: &mut Vec<u8>| buffer.clear(),
            )),
            object_pool: Arc::new(object_pool::Pool::new(IDLE, move || {
                Vec::with_capacity(size)
            })),
            opool: Arc::new(opool::Pool::new(IDLE, Alloc(size))),
            deadpool,
            sharded_slab: Arc::new(sharded_slab::Pool::new()),
        }
    }
}

/// One iteration on one thread: get a buffer, touch it, give it back.
#[inline(always)]
fn cycle<G: DerefMut<Target = Vec<u8>>>(size: usize, get: &impl Fn() -> G, release: &impl Fn(G)) {
    let mut buffer = get();
    touch(&mut buffer, size);
    release(buffer);
}

/// Runs one get/touch/release cycle per iteration on `threads` threads at
/// once.
fn bench_op<G: DerefMut<Target = Vec<u8>>>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    (name, label, size, threads): (&str, &str, usize, usize),
    get: impl Fn() -> G + Sync,
    release: impl Fn(G) + Sync,
) {
    group.bench_function(BenchmarkId::new(name, label), |b| {
        if threads == 1 {
            b.iter(|| cycle(size, &get, &release))
        } else {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|scope| {
                    for _ in 0..threads {
                        scope.spawn(|| {
                            for _ in 0..iters {
                                cycle(size, &get, &release);
                            }
                        });
                    }
                });
                start.elapsed()
            })
        }
    });
}

fn get_drop(c: &mut Criterion, threads: usize) {
    let id = if threads == 1 {
        "object_pool/get_drop_1_thread".to_string()
    } else {
        format!("object_pool/get_drop_{threads}_threads")
    };
    let mut group = c.benchmark_group(id);
    group.throughput(Throughput::Elements(threads as u64));
    for (size, label) in SIZES {
        let pool = ours(size, true);
        let peers = Peers::new(size);
        let row = |name| (name, label, size, threads);
        let g = &mut group;
        bench_op(g, row("perfect21"), || pool.get().expect("uncapped"), drop);
        bench_op(
            g,
            row("lockfree-object-pool_linear"),
            || peers.linear.pull(),
            drop,
        );
        bench_op(
            g,
            row("lockfree-object-pool_mutex"),
            || peers.mutex.pull(),
            drop,
        );
        bench_op(
            g,
            row("object-pool"),
            || cleared(peers.object_pool.pull(|| Vec::with_capacity(size))),
            drop,
        );
        bench_op(g, row("opool"), || peers.opool.get(), drop);
        bench_op(
            g,
            row("deadpool_unmanaged"),
            || cleared(peers.deadpool.try_get().expect("prefilled")),
            drop,
        );
        bench_op(
            g,
            row("sharded-slab"),
            || peers.sharded_slab.create().expect("room"),
            |buffer| {
                let key = buffer.key();
                drop(buffer);
                peers.sharded_slab.clear(key);
            },
        );
        bench_op(g, row("alloc"), || Fresh(Vec::with_capacity(size)), drop);
    }
    group.finish();
}

/// A plain allocation, wrapped only so it derefs to `Vec<u8>` like a guard.
struct Fresh(Vec<u8>);

impl std::ops::Deref for Fresh {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for Fresh {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

/// Pools without a reset hook: the bench clears the buffer after the get.
fn cleared<G: DerefMut<Target = Vec<u8>>>(mut buffer: G) -> G {
    buffer.clear();
    buffer
}

fn get_drop_1_thread(c: &mut Criterion) {
    get_drop(c, 1);
}

fn get_drop_2_threads(c: &mut Criterion) {
    get_drop(c, 2);
}

/// A producer gets `BATCH` buffers (touching each), sends them to a
/// consumer that releases them; time per buffer.
fn cross<G: DerefMut<Target = Vec<u8>> + Send>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    (name, label, size): (&str, &str, usize),
    get: impl Fn() -> G + Sync,
    release: impl Fn(G) + Send + Sync,
) {
    group.bench_function(BenchmarkId::new(name, label), |b| {
        b.iter_custom(|iters| {
            let batches = iters.div_ceil(BATCH as u64);
            let (send, receive) = sync_channel::<Vec<G>>(2);
            let start = Instant::now();
            std::thread::scope(|scope| {
                let release = &release;
                scope.spawn(move || {
                    while let Ok(batch) = receive.recv() {
                        batch.into_iter().for_each(release);
                    }
                });
                for _ in 0..batches {
                    let batch: Vec<G> = (0..BATCH)
                        .map(|_| {
                            let mut buffer = get();
                            touch(&mut buffer, size);
                            buffer
                        })
                        .collect();
                    send.send(batch).expect("consumer alive");
                }
                drop(send);
            });
            let elapsed = start.elapsed();
            // Per buffer: scale to the iterations asked for.
            Duration::from_secs_f64(
                elapsed.as_secs_f64() * iters as f64 / (batches * BATCH as u64) as f64,
            )
        })
    });
}

fn cross_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("object_pool/cross_thread");
    group.throughput(Throughput::Elements(1));
    for (size, label) in SIZES {
        let pool = ours(size, true);
        let peers = Peers::new(size);
        let row = |name| (name, label, size);
        let g = &mut group;
        cross(
            g,
            row("perfect21"),
            || pool.get_owned().expect("uncapped"),
            drop,
        );
        cross(
            g,
            row("lockfree-object-pool_linear"),
            || peers.linear.pull_owned(),
            drop,
        );
        cross(
            g,
            row("lockfree-object-pool_mutex"),
            || peers.mutex.pull_owned(),
            drop,
        );
        cross(
            g,
            row("object-pool"),
            || cleared(peers.object_pool.pull_owned(|| Vec::with_capacity(size))),
            drop,
        );
        cross(g, row("opool"), || Arc::clone(&peers.opool).get_rc(), drop);
        cross(
            g,
            row("deadpool_unmanaged"),
            || cleared(peers.deadpool.try_get().expect("prefilled")),
            drop,
        );
        cross(
            g,
            row("sharded-slab"),
            || {
                Arc::clone(&peers.sharded_slab)
                    .create_owned()
                    .expect("room")
            },
            |buffer| {
                let key = buffer.key();
                drop(buffer);
                peers.sharded_slab.clear(key);
            },
        );
        cross(g, row("alloc"), || Fresh(Vec::with_capacity(size)), drop);
    }
    group.finish();
}

fn stats_overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("object_pool/stats");
    group.throughput(Throughput::Elements(1));
    let size = 64;
    let on = ours(size, true);
    let off = ours(size, false);
    bench_op(
        &mut group,
        ("perfect21", "64B", size, 1),
        || on.get().expect("uncapped"),
        drop,
    );
    bench_op(
        &mut group,
        ("perfect21_stats_off", "64B", size, 1),
        || off.get().expect("uncapped"),
        drop,
    );
    group.finish();
}

criterion_group!(
    benches,
    get_drop_1_thread,
    get_drop_2_threads,
    cross_thread,
    stats_overhead
);
criterion_main!(benches);
