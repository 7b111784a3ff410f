//! What criterion cannot measure well for perfect21-pg-stats on a shared,
//! noisy machine, written to `target/perfect21-results/pg_stats.json`:
//!
//! * **Recording overhead, interleaved.** The `pg_stats/pk_select` workload
//!   (take a connection from a pool of 16, `prepare_cached`, `query_one` on
//!   a primary key) at 1 and 16 tasks, `StatsPool` and raw
//!   deadpool-postgres alternating in 0.5 s slices (ABBA order) for 20 slices
//!   each; throughput = all queries ÷ all time per side. Criterion runs its
//!   rows one after the other, so a burst of load from another process
//!   lands on one row only; alternating slices spreads it over both.
//! * **The ceiling.** `pgbench -S -M prepared -c 4 -j 2` (select-only,
//!   prepared, 4 connections, 2 threads, scale 1), interleaved with the same
//!   statement through `StatsPool` and raw deadpool-postgres at 4
//!   connections (4 tasks, each owning a connection, on a 2-worker tokio
//!   runtime): three rounds of 5 s each, the median of each side kept.
//! * The connection set-up time `StatsPool` measured.
//!
//! Run: `cargo run --release -p perfect21-benches --bin pg_stats_measure`
//! with `DATABASE_URL` set (`cargo xtask bench pg_stats` does both).
#![allow(missing_docs)]

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use perfect21_benches::interleave;
use perfect21_benches::pg_stats::{ROWS, SELECT, deadpool_pool, seed, stats_pool};
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

fn main() {
    let url = service_url("DATABASE_URL");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut records = Vec::new();

    // Recording overhead, interleaved.
    rt.block_on(seed(&url)).expect("seed the bench table");
    let ours = rt.block_on(async { stats_pool(&url, POOL_SIZE) });
    let raw = rt.block_on(async { deadpool_pool(&url, POOL_SIZE) });
    for tasks in [1, 16] {
        let (o, r) = rt.block_on(interleave::interleaved(
            pk_select!(ours),
            pk_select!(raw),
            tasks,
            SLICE,
            SLICES,
        ));
        let case = format!(
            "pk_select, {tasks} task(s), pool of {POOL_SIZE}, {SLICES} × 0.5 s slices each, interleaved"
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

    // The ceiling: pgbench, interleaved with both pools at 4 connections.
    pgbench(&["-i", "-s", "1", "-q", &url]);
    let (ours4, ours_clients, raw_clients) = rt.block_on(async {
        let ours = stats_pool(&url, CONNECTIONS);
        let raw = deadpool_pool(&url, CONNECTIONS);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..CONNECTIONS {
            a.push(ours.get().await.expect("a connection"));
            b.push(raw.get().await.expect("a connection"));
        }
        (ours, Arc::new(a), Arc::new(b))
    });
    let (mut pg, mut mine, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
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
        let clients = ours_clients.clone();
        let (q, s) = rt.block_on(run(ROUND, CONNECTIONS, ACCOUNTS, move |t, aid| {
            let clients = clients.clone();
            async move {
                let stmt = clients[t]
                    .prepare_cached(PGBENCH_SELECT)
                    .await
                    .expect("prepare");
                clients[t].query_one(&stmt, &[&aid]).await.expect("row");
            }
        }));
        mine.push(q as f64 / s);
        let clients = raw_clients.clone();
        let (q, s) = rt.block_on(run(ROUND, CONNECTIONS, ACCOUNTS, move |t, aid| {
            let clients = clients.clone();
            async move {
                let stmt = clients[t]
                    .prepare_cached(PGBENCH_SELECT)
                    .await
                    .expect("prepare");
                clients[t].query_one(&stmt, &[&aid]).await.expect("row");
            }
        }));
        theirs.push(q as f64 / s);
        eprintln!(
            "round {round}: pgbench {:.0} tps, StatsPool {:.0} qps, deadpool-postgres {:.0} qps",
            pg[round], mine[round], theirs[round]
        );
    }
    let (pgbench_tps, ours_tps, raw_tps) = (median(pg), median(mine), median(theirs));
    let case = format!(
        "select-only, prepared, 4 connections, median of {ROUNDS} interleaved {} s rounds",
        ROUND.as_secs()
    );
    records.extend([
        Record::new(
            BENCH,
            &case,
            "pgbench -S -M prepared -c 4 -j 2",
            pgbench_tps,
            "tps",
        ),
        Record::new(BENCH, &case, "perfect21", ours_tps, "qps"),
        Record::new(BENCH, &case, "deadpool-postgres", raw_tps, "qps"),
        Record::new(
            BENCH,
            &case,
            "perfect21 / pgbench",
            ours_tps / pgbench_tps * 100.0,
            "%",
        ),
    ]);

    let mut connect = ours.pool_stats().connect_time;
    let more = ours4.pool_stats().connect_time;
    connect.count += more.count;
    connect.total += more.total;
    connect.max = connect.max.max(more.max);
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
