//! The machine's ceiling for perfect21-pg-stats: `pgbench -S -M prepared
//! -c 4 -j 2` (select-only, prepared, 4 connections, 2 threads) against
//! `DATABASE_URL`, then the same statement at 4 connections through
//! `StatsPool` and through raw deadpool-postgres (4 tasks, each holding one
//! connection, on a 2-worker tokio runtime) for the same time — three
//! interleaved rounds, the median of each kept. Also the
//! pool's measured connection-establishment time. Written to
//! `target/perfect21-results/pg_stats.json`.
//!
//! Run: `cargo run --release -p perfect21-benches --bin pg_stats_pgbench [SECONDS_PER_RUN]`
//! with `DATABASE_URL` set (`cargo xtask bench pg_stats` does both).
#![allow(missing_docs)]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use perfect21_benches::pg_stats::{deadpool_pool, stats_pool};
use perfect21_benches::results::{self, Record};
use perfect21_benches::service_url;

const BENCH: &str = "pg_stats";
const CASE: &str = "select-only, prepared, 4 connections";
const CONNECTIONS: usize = 4;
const ROUNDS: usize = 3;
const ACCOUNTS: u64 = 100_000; // pgbench scale 1
const SELECT: &str = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";

fn pgbench(args: &[&str]) -> String {
    let out = Command::new("pgbench")
        .args(args)
        .output()
        .expect("pgbench (Debian package postgresql-contrib / postgresql-client)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pgbench {args:?} failed:\n{text}");
    text
}

/// Queries per second over `span` with `CONNECTIONS` tasks, task `t`
/// looping `op(t, aid)` with a pseudo-random account id.
async fn run<F, Fut>(span: Duration, op: F) -> f64
where
    F: Fn(usize, i32) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS as u64)
        .map(|t| {
            let (stop, done, op) = (stop.clone(), done.clone(), op.clone());
            tokio::spawn(async move {
                let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (t + 1);
                while !stop.load(Ordering::Relaxed) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    op(t as usize, (x % ACCOUNTS) as i32 + 1).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(span).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("a task panicked");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let Some(url) = service_url("DATABASE_URL") else {
        return;
    };
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let span = Duration::from_secs(secs);
    pgbench(&["-i", "-s", "1", "-q", &url]);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (ours, ours_clients, raw_clients) = rt.block_on(async {
        let ours = stats_pool(&url, CONNECTIONS);
        let ours_clients = Arc::new(take_all(&ours).await);
        let raw = deadpool_pool(&url, CONNECTIONS);
        let mut held = Vec::new();
        for _ in 0..CONNECTIONS {
            held.push(raw.get().await.expect("a connection"));
        }
        (ours, ours_clients, Arc::new(held))
    });

    // The machine is shared and noisy: interleave short runs of the three
    // and keep each one's median.
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
            &secs.to_string(),
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
        mine.push(rt.block_on(run(span, move |slot, aid| {
            let clients = clients.clone();
            async move {
                let c = &clients[slot];
                let stmt = c.prepare_cached(SELECT).await.expect("prepare");
                c.query_one(&stmt, &[&aid]).await.expect("row");
            }
        })));
        let clients = raw_clients.clone();
        theirs.push(rt.block_on(run(span, move |slot, aid| {
            let clients = clients.clone();
            async move {
                let c = &clients[slot];
                let stmt = c.prepare_cached(SELECT).await.expect("prepare");
                c.query_one(&stmt, &[&aid]).await.expect("row");
            }
        })));
        eprintln!(
            "round {round}: pgbench {:.0} tps, StatsPool {:.0} qps, deadpool-postgres {:.0} qps",
            pg[round], mine[round], theirs[round]
        );
    }
    let (pgbench_tps, ours_tps, raw_tps) = (median(pg), median(mine), median(theirs));
    let connect = ours.pool_stats().connect_time;

    let case = format!("{CASE}, median of {ROUNDS} interleaved {secs} s runs");
    let records = [
        Record::new(BENCH, &case, "pgbench", pgbench_tps, "tps"),
        Record::new(BENCH, &case, "perfect21", ours_tps, "qps"),
        Record::new(BENCH, &case, "deadpool-postgres", raw_tps, "qps"),
        Record::new(
            BENCH,
            &case,
            "perfect21 / pgbench",
            ours_tps / pgbench_tps * 100.0,
            "%",
        ),
        Record::new(
            BENCH,
            &case,
            "perfect21 / deadpool-postgres",
            ours_tps / raw_tps * 100.0,
            "%",
        ),
        Record::new(
            BENCH,
            "connection set-up (StatsPool, 4 connections)",
            "mean",
            connect.mean().as_secs_f64() * 1e3,
            "ms",
        ),
        Record::new(
            BENCH,
            "connection set-up (StatsPool, 4 connections)",
            "max",
            connect.max.as_secs_f64() * 1e3,
            "ms",
        ),
    ];
    match results::write(BENCH, &records) {
        Ok(path) => eprintln!("written to {}", path.display()),
        Err(e) => eprintln!("could not write the results: {e}"),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Takes every connection of the pool, so each task owns one (as each
/// pgbench client owns its connection).
async fn take_all(pool: &perfect21_pg_stats::StatsPool) -> Vec<perfect21_pg_stats::StatsClient> {
    let mut held = Vec::new();
    for _ in 0..CONNECTIONS {
        held.push(pool.get().await.expect("a connection"));
    }
    held
}
