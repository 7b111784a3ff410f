//! What criterion cannot measure well for perfect21-pg-stats on a shared,
//! noisy machine, written to `target/perfect21-results/pg_stats.json`:
//!
//! * **Recording overhead, interleaved.** The `pg_stats/pk_select` workload
//!   (take a connection from a pool of 16, `prepare_cached`, `query_one` on
//!   a primary key) at 1 and 16 tasks, `StatsPool` and raw
//!   deadpool-postgres alternating in 0.5 s slices (ABBA order) for 20 slices
//!   each; throughput = all queries ÷ all time per side. Both pools are
//!   configured alike (size, timeouts, recycling), once with `Fast`
//!   recycling and once with `Verified` (StatsPool's default). Criterion runs
//!   its rows one after the other, so a burst of load from another process
//!   lands on one row only; alternating slices spreads it over both.
//! * **The ceiling.** `pgbench -S -M prepared -c 4 -j 2` (select-only,
//!   prepared, 4 connections, 2 threads, scale 1), interleaved round by
//!   round with the same statement from 4 tasks on a 2-worker tokio runtime
//!   through `StatsPool` and raw deadpool-postgres, each used as a pool:
//!   every query takes a connection from a pool of 4 and gives it back,
//!   with the default `Verified` recycling and with `Fast`. pgbench's
//!   clients each keep one connection for the run, so the like-for-like
//!   transport rows are there too: 4 tasks each holding one client for the
//!   round ("held"). Three rounds of 5 s each, the median of each side kept.
//! * The connection set-up time `StatsPool` measured.
//!
//! Run: `cargo run --release -p perfect21-benches --bin pg_stats_measure`
//! with `DATABASE_URL` set (`cargo xtask bench pg_stats` does both);
//! without it the program fails.
#![allow(missing_docs)]

use std::process::Command;
use std::sync::Arc;

use perfect21_pg_stats::{Latency, RecyclingMethod};
use std::time::Duration;

use perfect21_benches::interleave;
use perfect21_benches::pg_stats::{METHODS, ROWS, SELECT, deadpool_pool, seed, stats_pool};
use perfect21_benches::results::{self, Record};
use perfect21_benches::service_url;

const BENCH: &str = "pg_stats";
const POOL_SIZE: usize = 16;
const SLICE: Duration = Duration::from_millis(500);
const SLICES: usize = 20;
const CONNECTIONS: usize = 4;
const ROUNDS: usize = 3;
const ROUND: Duration = Duration::from_secs(5);
const ACCOUNTS: u64 = 100_000; // pgbench scale 1
const PGBENCH_SELECT: &str = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";

fn pgbench(args: &[&str]) -> String {
    let out = Command::new("pgbench")
        .args(args)
        .output()
        .expect("pgbench (Debian package postgresql-client)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pgbench {args:?} failed:\n{text}");
    text
}

/// `(queries, seconds)` of `tasks` tasks looping `op(task, key)` for `span`,
/// `key` pseudo-random in `1..=keys`.
async fn run<F, Fut>(span: Duration, tasks: usize, keys: u64, op: F) -> (u64, f64)
where
    F: Fn(usize, i32) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    interleave::run_for(span, tasks, move |task, call| {
        op(task, interleave::key(task, call, keys) as i32)
    })
    .await
}

/// The `pk_select` workload on `pool`: a connection, `prepare_cached`,
/// `query_one` on a random primary key.
macro_rules! pk_select {
    ($pool:expr) => {{
        let pool = $pool.clone();
        move |task: usize, call: u64| {
            let pool = pool.clone();
            async move {
                let id = interleave::key(task, call, ROWS as u64) as i32;
                let c = pool.get().await.expect("a connection");
                let stmt = c.prepare_cached(SELECT).await.expect("prepare");
                c.query_one(&stmt, &[&id]).await.expect("row");
            }
        }
    }};
}

/// One select of pgbench's workload on a connection taken from `pool` and
/// given back.
macro_rules! pooled_select {
    ($pool:expr) => {{
        let pool = $pool.clone();
        move |_task: usize, aid: i32| {
            let pool = pool.clone();
            async move {
                let c = pool.get().await.expect("a connection");
                let stmt = c.prepare_cached(PGBENCH_SELECT).await.expect("prepare");
                c.query_one(&stmt, &[&aid]).await.expect("row");
            }
        }
    }};
}

/// One select of pgbench's workload on task `t`'s own held client.
macro_rules! held_select {
    ($clients:expr) => {{
        let clients = $clients.clone();
        move |t: usize, aid: i32| {
            let clients = clients.clone();
            async move {
                let stmt = clients[t]
                    .prepare_cached(PGBENCH_SELECT)
                    .await
                    .expect("prepare");
                clients[t].query_one(&stmt, &[&aid]).await.expect("row");
            }
        }
    }};
}

fn main() {
    let url = service_url("DATABASE_URL");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut records = Vec::new();
    let mut connect = Vec::new();

    // Recording overhead, interleaved, for each recycling method.
    rt.block_on(seed(&url)).expect("seed the bench table");
    for (method_name, method) in METHODS {
        let ours = rt.block_on(async { stats_pool(&url, POOL_SIZE, method.clone()) });
        let raw = rt.block_on(async { deadpool_pool(&url, POOL_SIZE, method.clone()) });
        for tasks in [1, 16] {
            let (o, r) = rt.block_on(interleave::interleaved(
                pk_select!(ours),
                pk_select!(raw),
                tasks,
                SLICE,
                SLICES,
            ));
            let case = format!(
                "pk_select, {tasks} task(s), pool of {POOL_SIZE}, {method_name} recycling, \
                 {SLICES} × 0.5 s slices each, interleaved"
            );
            eprintln!("{case}: StatsPool {o:.0} qps, deadpool-postgres {r:.0} qps");
            records.push(Record::new(BENCH, &case, "perfect21", o, "qps"));
            records.push(Record::new(BENCH, &case, "deadpool-postgres", r, "qps"));
            records.push(Record::new(
                BENCH,
                &case,
                "perfect21 overhead",
                (r / o - 1.0) * 100.0,
                "%",
            ));
        }
        connect.push(ours.pool_stats().connect_time);
    }

    // The ceiling: pgbench, interleaved with both pools at 4 connections,
    // used as pools (each method) and as 4 held clients.
    pgbench(&["-i", "-s", "1", "-q", &url]);
    let sides = rt.block_on(async {
        let mut sides = Vec::new();
        for (method_name, method) in [METHODS[1].clone(), METHODS[0].clone()] {
            sides.push((
                format!("perfect21, pool, {method_name}"),
                Side::StatsPool(stats_pool(&url, CONNECTIONS, method.clone())),
            ));
            sides.push((
                format!("deadpool-postgres, pool, {method_name}"),
                Side::Deadpool(deadpool_pool(&url, CONNECTIONS, method)),
            ));
        }
        let ours = stats_pool(&url, CONNECTIONS, RecyclingMethod::Verified);
        let raw = deadpool_pool(&url, CONNECTIONS, RecyclingMethod::Verified);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..CONNECTIONS {
            a.push(ours.get().await.expect("a connection"));
            b.push(raw.get().await.expect("a connection"));
        }
        sides.push((
            "perfect21, 4 held clients".to_owned(),
            Side::StatsHeld(ours, Arc::new(a)),
        ));
        sides.push((
            "deadpool-postgres, 4 held clients".to_owned(),
            Side::DeadpoolHeld(Arc::new(b)),
        ));
        sides
    });
    let mut pg = Vec::new();
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
    for round in 0..ROUNDS {
        let out = pgbench(&[
            "-S",
            "-M",
            "prepared",
            "-c",
            "4",
            "-j",
            "2",
            "-T",
            &ROUND.as_secs().to_string(),
            &url,
        ]);
        let tps: f64 = out
            .lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no `tps = ` line in pgbench's output:\n{out}"));
        pg.push(tps);
        let mut line = format!("round {round}: pgbench {tps:.0} tps");
        for (i, (name, side)) in sides.iter().enumerate() {
            let (q, s) = rt.block_on(async {
                match side {
                    Side::StatsPool(p) => {
                        run(ROUND, CONNECTIONS, ACCOUNTS, pooled_select!(p)).await
                    }
                    Side::Deadpool(p) => run(ROUND, CONNECTIONS, ACCOUNTS, pooled_select!(p)).await,
                    Side::StatsHeld(_, c) => {
                        run(ROUND, CONNECTIONS, ACCOUNTS, held_select!(c)).await
                    }
                    Side::DeadpoolHeld(c) => {
                        run(ROUND, CONNECTIONS, ACCOUNTS, held_select!(c)).await
                    }
                }
            });
            rates[i].push(q as f64 / s);
            line.push_str(&format!(", {name} {:.0} qps", q as f64 / s));
        }
        eprintln!("{line}");
    }
    let pgbench_tps = median(pg);
    let case = format!(
        "select-only, prepared, 4 connections, median of {ROUNDS} interleaved {} s rounds",
        ROUND.as_secs()
    );
    records.push(Record::new(
        BENCH,
        &case,
        "pgbench -S -M prepared -c 4 -j 2",
        pgbench_tps,
        "tps",
    ));
    for ((name, side), rates) in sides.iter().zip(rates) {
        let qps = median(rates);
        records.push(Record::new(BENCH, &case, name, qps, "qps"));
        if matches!(side, Side::StatsPool(_) | Side::StatsHeld(..)) {
            records.push(Record::new(
                BENCH,
                &case,
                &format!("{name} / pgbench"),
                qps / pgbench_tps * 100.0,
                "%",
            ));
        }
        if let Side::StatsPool(p) | Side::StatsHeld(p, _) = side {
            connect.push(p.pool_stats().connect_time);
        }
    }

    let connect = merged(&connect);
    let case = format!(
        "connection set-up measured by StatsPool ({} connections)",
        connect.count
    );
    records.push(Record::new(
        BENCH,
        &case,
        "mean",
        connect.mean().as_secs_f64() * 1e3,
        "ms",
    ));
    records.push(Record::new(
        BENCH,
        &case,
        "max",
        connect.max.as_secs_f64() * 1e3,
        "ms",
    ));

    match results::write(BENCH, &records) {
        Ok(path) => eprintln!("written to {}", path.display()),
        Err(e) => eprintln!("could not write the results: {e}"),
    }
}

/// One side of the ceiling comparison.
enum Side {
    StatsPool(perfect21_pg_stats::StatsPool),
    Deadpool(deadpool_postgres::Pool),
    /// The pool (for its connect figures) and its 4 checked-out clients.
    StatsHeld(
        perfect21_pg_stats::StatsPool,
        Arc<Vec<perfect21_pg_stats::StatsClient>>,
    ),
    DeadpoolHeld(Arc<Vec<deadpool_postgres::Client>>),
}

/// Count, total and max of several connect-time summaries.
fn merged(all: &[Latency]) -> Latency {
    let mut sum = Latency::default();
    for l in all {
        sum.count += l.count;
        sum.total += l.total;
        sum.max = sum.max.max(l.max);
    }
    sum
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
