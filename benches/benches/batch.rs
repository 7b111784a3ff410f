//! perfect21-batch beside `batch-aint-one`, a direct call of the batch
//! function, and plain per-item Redis calls. Every row is time per item,
//! with the items spread over concurrent caller tasks on a two-worker tokio
//! runtime.
//!
//! Groups:
//! * `batch/noop_overhead` — a batch function that does nothing (each item
//!   is its own output), at 1, 64 and 1024 concurrent callers: what the
//!   batcher itself costs per item;
//! * `batch/redis_1_caller`, `batch/redis_256_callers` — 1 or 256 callers
//!   each fetching one key at a time from Redis: the batcher issuing `MGET`
//!   (plain and keyed), the same `MGET` function called directly by each
//!   caller, per-item `GET` on one multiplexed connection, per-item `GET`
//!   over a pool of 8 connections used one command at a time, and
//!   `batch-aint-one` issuing `MGET`. At one caller the eager policy's
//!   latency reads against `direct_mget`; at 256, batching against `GET`.
//!
//! The mean batch size each batcher reached is written to
//! `perfect21-results/batch.json`.
#![allow(missing_docs)]

use std::sync::{Arc, Mutex};

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use perfect21_batch::{BatchStats, FlushPolicy};
use perfect21_benches::batch::{self as contenders, aint_one, key, spread};
use perfect21_benches::results::{self, Record};
use perfect21_benches::service_url;
use redis::aio::MultiplexedConnection;
use tokio::runtime::Runtime;

const MAX_BATCH_SIZE: usize = 128;
const MAX_CONCURRENT_BATCHES: usize = 4;
const POOL_SIZE: usize = 8;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Mean batch sizes seen during the run, written at the end.
#[derive(Clone, Default)]
struct BatchSizes(Arc<Mutex<Vec<Record>>>);

impl BatchSizes {
    fn add(&self, case: String, stats: &BatchStats) {
        if stats.batches > 0 {
            let mut records = self.0.lock().expect("not poisoned");
            let mean = stats.batch_size.mean;
            records.push(Record::new("batch", case, "mean batch size", mean, "items"));
        }
    }

    fn write(&self) {
        let records = self.0.lock().expect("not poisoned");
        if !records.is_empty() {
            match results::write("batch", &records) {
                Ok(path) => eprintln!("batch sizes written to {}", path.display()),
                Err(error) => eprintln!("could not write the batch sizes: {error}"),
            }
        }
    }
}

/// A group's parameter: `1_caller`, `64_callers`, …
fn label(callers: usize) -> String {
    if callers == 1 {
        "1_caller".to_string()
    } else {
        format!("{callers}_callers")
    }
}

/// One row: `iters` calls of `op` spread over `callers` tasks.
fn row<F, Fut>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    runtime: &Runtime,
    (name, label, callers): (&str, &str, usize),
    op: F,
) where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    group.bench_function(BenchmarkId::new(name, label), |b| {
        b.iter_custom(|iters| runtime.block_on(spread(callers, iters, op.clone())))
    });
}

fn noop_overhead(c: &mut Criterion, sizes: &BatchSizes) {
    let runtime = runtime();
    let mut group = c.benchmark_group("batch/noop_overhead");
    group.throughput(Throughput::Elements(1));
    for callers in [1, 64, 1024] {
        let label = label(callers);
        let at = |name| (name, label.as_str(), callers);
        // The eager policy (the default), and `Fixed` with batches as large
        // as the callers can fill: every batch full.
        let mut rows = vec![("perfect21", FlushPolicy::Eager, MAX_BATCH_SIZE)];
        if callers > 1 {
            let full = callers.min(MAX_BATCH_SIZE);
            rows.push(("perfect21_fixed_full", FlushPolicy::Fixed, full));
        }
        for (name, policy, max_batch_size) in rows {
            let ours = runtime.block_on(async {
                contenders::noop_batcher(policy, max_batch_size, MAX_CONCURRENT_BATCHES)
            });
            let batcher = ours.clone();
            row(&mut group, &runtime, at(name), move |caller, n| {
                let submit = batcher.submit(caller as u64 + n);
                async move {
                    submit.await.expect("no-op");
                }
            });
            sizes.add(format!("noop {label} {name}"), &ours.stats());
            runtime.block_on(ours.shutdown());
        }

        let peer = runtime
            .block_on(async { aint_one(contenders::noop, MAX_BATCH_SIZE, MAX_CONCURRENT_BATCHES) });
        row(
            &mut group,
            &runtime,
            at("batch-aint-one"),
            move |caller, n| {
                let peer = peer.clone();
                async move {
                    peer.add((), caller as u64 + n).await.expect("no-op");
                }
            },
        );

        row(&mut group, &runtime, at("direct"), |caller, n| async move {
            contenders::noop(vec![caller as u64 + n])
                .await
                .expect("no-op");
        });
    }
    group.finish();
}

fn redis(c: &mut Criterion, sizes: &BatchSizes) {
    let url = service_url("REDIS_URL");
    let runtime = runtime();
    let connection = runtime
        .block_on(contenders::redis_setup(&url))
        .expect("connect to REDIS_URL and write the keys");
    let pool = runtime
        .block_on(contenders::connection_pool(&url, POOL_SIZE))
        .expect("connect the pool");
    for (group, callers) in [
        ("batch/redis_1_caller", 1),
        ("batch/redis_256_callers", 256),
    ] {
        redis_group(c, &runtime, (group, callers), &connection, &pool, sizes);
    }
}

/// Every way to fetch one key per call, at `callers` concurrent callers.
fn redis_group(
    c: &mut Criterion,
    runtime: &Runtime,
    (group, callers): (&str, usize),
    connection: &MultiplexedConnection,
    pool: &deadpool::unmanaged::Pool<MultiplexedConnection>,
    sizes: &BatchSizes,
) {
    let mut group = c.benchmark_group(group);
    group.throughput(Throughput::Elements(1));
    let label = label(callers);
    let at = |name| (name, label.as_str(), callers);

    let ours = runtime.block_on(async {
        contenders::mget_batcher(connection.clone(), MAX_BATCH_SIZE, MAX_CONCURRENT_BATCHES)
    });
    let batcher = ours.clone();
    row(&mut group, runtime, at("perfect21"), move |caller, n| {
        let submit = batcher.submit(key(caller, n));
        async move {
            submit.await.expect("MGET");
        }
    });
    sizes.add(format!("redis {label} perfect21"), &ours.stats());
    runtime.block_on(ours.shutdown());

    let keyed = runtime.block_on(async {
        contenders::keyed_mget_batcher(connection.clone(), MAX_BATCH_SIZE, MAX_CONCURRENT_BATCHES)
    });
    let batcher = keyed.clone();
    row(
        &mut group,
        runtime,
        at("perfect21_keyed"),
        move |caller, n| {
            let load = batcher.load(key(caller, n));
            async move {
                load.await.expect("MGET");
            }
        },
    );
    sizes.add(format!("redis {label} perfect21_keyed"), &keyed.stats());
    runtime.block_on(keyed.shutdown());

    // The batch function, called directly by every caller.
    let direct = connection.clone();
    row(&mut group, runtime, at("direct_mget"), move |caller, n| {
        contenders::mget_direct(direct.clone(), key(caller, n))
    });
    let multiplexed = connection.clone();
    row(
        &mut group,
        runtime,
        at("multiplexed_get"),
        move |caller, n| {
            let mut connection = multiplexed.clone();
            async move {
                contenders::get(&mut connection, key(caller, n))
                    .await
                    .expect("GET");
            }
        },
    );
    let pool = pool.clone();
    row(&mut group, runtime, at("pooled_get"), move |caller, n| {
        let pool = pool.clone();
        async move {
            let mut connection = pool.get().await.expect("a pooled connection");
            contenders::get(&mut connection, key(caller, n))
                .await
                .expect("GET");
        }
    });
    let mget = connection.clone();
    let peer = runtime.block_on(async {
        aint_one(
            move |keys| contenders::mget(mget.clone(), keys),
            MAX_BATCH_SIZE,
            MAX_CONCURRENT_BATCHES,
        )
    });
    row(
        &mut group,
        runtime,
        at("batch-aint-one"),
        move |caller, n| {
            let peer = peer.clone();
            async move {
                peer.add((), key(caller, n)).await.expect("MGET");
            }
        },
    );
    group.finish();
}

fn benches(c: &mut Criterion) {
    let sizes = BatchSizes::default();
    noop_overhead(c, &sizes);
    redis(c, &sizes);
    sizes.write();
}

criterion_group!(batch, benches);
criterion_main!(batch);
