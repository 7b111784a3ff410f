//! perfect21-pg-stats beside raw deadpool-postgres, against the Postgres of
//! `DATABASE_URL` (required: without it the bench fails, it never skips).
//!
//! Groups:
//! * `pg_stats/pk_select` — a primary-key `SELECT` on a seeded table at 1
//!   and 16 concurrent tasks: take a connection from a pool of 16,
//!   `prepare_cached`, `query_one`, give it back. `perfect21` records the
//!   statement (latency histogram, rows); `deadpool-postgres` is the same
//!   pool without recording — same size, timeouts and recycling method.
//!   Each pair runs with `fast` recycling (deadpool-postgres's default: no
//!   round trip at checkout) and `verified` (StatsPool's default: one
//!   round trip per checkout). The ratio within a pair is the recording's
//!   overhead; `verified` against `fast` is what the safer default costs.
//! * `pg_stats/record` — the record path alone (no server): one call's
//!   statistics for an already-seen SQL text. `hdrhistogram` is a bare
//!   `Mutex<Histogram>` record — the floor of any per-call histogram.
//!
//! pgbench's select-only ceiling is measured by the `pg_stats_measure`
//! program (see benches/Cargo.toml).
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Mutex;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use perfect21_benches::batch::spread;
use perfect21_benches::pg_stats::{METHODS, ROWS, SELECT, deadpool_pool, seed, stats_pool};
use perfect21_benches::service_url;
use perfect21_pg_stats::RecyclingMethod;
use tokio::runtime::Runtime;

const POOL_SIZE: usize = 16;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn label(tasks: usize) -> String {
    if tasks == 1 {
        "1_task".to_string()
    } else {
        format!("{tasks}_tasks")
    }
}

fn id(caller: usize, n: u64) -> i32 {
    ((caller as u64 * 7919 + n * 31) % ROWS as u64) as i32 + 1
}

fn pk_select(c: &mut Criterion) {
    let url = service_url("DATABASE_URL");
    let runtime = runtime();
    runtime.block_on(seed(&url)).expect("seed the bench table");

    let mut group = c.benchmark_group("pg_stats/pk_select");
    group.throughput(Throughput::Elements(1));
    for (method_name, method) in METHODS {
        let ours = runtime.block_on(async { stats_pool(&url, POOL_SIZE, method.clone()) });
        let raw = runtime.block_on(async { deadpool_pool(&url, POOL_SIZE, method.clone()) });
        for tasks in [1, 16] {
            let label = format!("{}_{method_name}", label(tasks));
            let pool = ours.clone();
            group.bench_function(BenchmarkId::new("perfect21", &label), |b| {
                b.iter_custom(|iters| {
                    let pool = pool.clone();
                    runtime.block_on(spread(tasks, iters, move |caller, n| {
                        let pool = pool.clone();
                        async move {
                            let client = pool.get().await.expect("a connection");
                            let stmt = client.prepare_cached(SELECT).await.expect("prepare");
                            let row = client.query_one(&stmt, &[&id(caller, n)]).await;
                            black_box(row.expect("the row"));
                        }
                    }))
                })
            });
            let pool = raw.clone();
            group.bench_function(BenchmarkId::new("deadpool-postgres", &label), |b| {
                b.iter_custom(|iters| {
                    let pool = pool.clone();
                    runtime.block_on(spread(tasks, iters, move |caller, n| {
                        let pool = pool.clone();
                        async move {
                            let client = pool.get().await.expect("a connection");
                            let stmt = client.prepare_cached(SELECT).await.expect("prepare");
                            let row = client.query_one(&stmt, &[&id(caller, n)]).await;
                            black_box(row.expect("the row"));
                        }
                    }))
                })
            });
        }
        report(method_name, &ours);
    }
    group.finish();
}

fn report(method: &str, pool: &perfect21_pg_stats::StatsPool) {
    let stats = pool.stats();
    if let Some(s) = stats.statement(SELECT) {
        let p = &stats.pool;
        eprintln!(
            "pg_stats ({method}): {} calls recorded, p50 {:?}, p99 {:?}; \
             get(): wait {:?}, recycle check {:?}, whole {:?} (means)",
            s.calls,
            s.latency.p50,
            s.latency.p99,
            p.acquire_wait.mean(),
            p.recycle_check.mean(),
            p.acquire_time.mean(),
        );
    }
}

fn record(c: &mut Criterion) {
    let runtime = runtime();
    // Never connects: the record path needs no server.
    let pool = runtime.block_on(async {
        stats_pool(
            "postgres://postgres@127.0.0.1:1/none",
            1,
            RecyclingMethod::Verified,
        )
    });
    let elapsed = Duration::from_micros(87);
    pool.record(SELECT, elapsed, 1);
    let mut group = c.benchmark_group("pg_stats/record");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("perfect21", "seen_sql"), |b| {
        b.iter(|| pool.record(black_box(SELECT), black_box(elapsed), 1))
    });
    let histogram = Mutex::new(
        hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 2).expect("bounds"),
    );
    group.bench_function(BenchmarkId::new("hdrhistogram", "seen_sql"), |b| {
        b.iter(|| {
            histogram
                .lock()
                .expect("not poisoned")
                .saturating_record(black_box(elapsed).as_micros() as u64)
        })
    });
    group.finish();
}

criterion_group!(benches, record, pk_select);
criterion_main!(benches);
