//! The machine's ceiling for perfect21-redis-cache: `redis-benchmark -t
//! get,set -c 64` on the server of `REDIS_URL`, then `RedisCache::get` (hit)
//! and the raw `redis` crate's GET with 64 requests in flight on the same
//! server for the same time, written to
//! `target/perfect21-results/redis_cache.json` for `cargo xtask bench`.
//!
//! Run: `REDIS_URL=redis://… cargo run --release -p perfect21-benches --bin redis_cache_ceiling`.
#![allow(missing_docs)]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use perfect21_benches::redis_cache::{KEYS, Record, raw_get, setup};
use perfect21_benches::results::{self, Record as Measured};

const BENCH: &str = "redis_cache";
const CLIENTS: usize = 64;
const SECONDS: u64 = 5;

fn host_port(url: &str) -> (String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "6379"));
    (host.to_owned(), port.to_owned())
}

/// redis-benchmark's requests per second for GET and SET.
fn redis_benchmark(url: &str) -> Vec<(String, f64)> {
    let (host, port) = host_port(url);
    let out = Command::new("redis-benchmark")
        .args([
            "-h", &host, "-p", &port, "-t", "get,set", "-c", "64", "-n", "200000", "--csv",
        ])
        .output()
        .expect("run redis-benchmark (Debian package redis-tools)");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').map(|f| f.trim_matches('"')).collect();
            let rps = fields.get(1)?.parse::<f64>().ok()?;
            Some((fields[0].to_owned(), rps))
        })
        .collect()
}

/// Operations per second of `op` with `CLIENTS` tasks looping for SECONDS.
async fn throughput<F, Fut>(op: F) -> f64
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..CLIENTS {
        let (stop, done, op) = (stop.clone(), done.clone(), op.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = t;
            while !stop.load(Ordering::Relaxed) {
                op(i % KEYS).await;
                i += CLIENTS;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("task");
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Local tier: from the return of instance B's `set` until instance A's
/// `get` (whose L1 held the old value) reads the new one, 500 times.
async fn invalidation_delay(url: &str) -> Vec<Measured> {
    let local = || async {
        perfect21_redis_cache::RedisCache::builder()
            .url(url)
            .namespace("bench-redis-cache-l1")
            .local_tier(1 << 20, Duration::from_secs(600))
            .build()
            .await
            .expect("cache with a local tier")
    };
    let (a, b) = (local().await, local().await);
    let mut delays = Vec::new();
    for i in 0..500u32 {
        b.set("k", &i, None).await.expect("set");
        let started = Instant::now();
        loop {
            if a.get::<u32>("k").await.expect("get") == Some(i) {
                break;
            }
            tokio::task::yield_now().await;
        }
        delays.push(started.elapsed().as_secs_f64() * 1e6);
    }
    delays.sort_by(f64::total_cmp);
    let at = |q: f64| delays[((delays.len() - 1) as f64 * q) as usize];
    let case = "L1 invalidation: B's set returns → A reads the new value";
    vec![
        Measured::new(BENCH, case, "p50", at(0.5), "µs"),
        Measured::new(BENCH, case, "p99", at(0.99), "µs"),
        Measured::new(BENCH, case, "max", at(1.0), "µs"),
    ]
}

fn main() {
    let Some(url) = perfect21_benches::service_url("REDIS_URL") else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (cache, raw) = rt.block_on(setup(&url));

    let mut records = Vec::new();
    let mut ceiling_get = None;
    for (test, rps) in redis_benchmark(&url) {
        if test == "GET" {
            ceiling_get = Some(rps);
        }
        records.push(Measured::new(
            BENCH,
            format!("redis-benchmark -t {test} -c 64"),
            "throughput",
            rps,
            "req/s",
        ));
    }
    let ours = rt.block_on(throughput(move |i| {
        let cache = cache.clone();
        async move {
            let v: Option<Record> = cache.get(&format!("k{i}")).await.expect("get");
            assert!(v.is_some());
        }
    }));
    let theirs = rt.block_on(throughput(move |i| {
        let raw = raw.clone();
        async move {
            raw_get(raw, i).await;
        }
    }));
    records.push(Measured::new(
        BENCH,
        "perfect21 get hit, 64 tasks",
        "throughput",
        ours,
        "req/s",
    ));
    records.push(Measured::new(
        BENCH,
        "redis crate GET + serde_json, 64 tasks",
        "throughput",
        theirs,
        "req/s",
    ));
    if let Some(ceiling) = ceiling_get {
        records.push(Measured::new(
            BENCH,
            "perfect21 get hit, 64 tasks ÷ redis-benchmark GET -c 64",
            "share_of_ceiling",
            100.0 * ours / ceiling,
            "%",
        ));
    }
    records.extend(rt.block_on(invalidation_delay(&url)));
    let path = results::write(BENCH, &records).expect("write results");
    for r in &records {
        println!("{}: {} = {:.1} {}", r.case, r.metric, r.value, r.unit);
    }
    println!("wrote {}", path.display());
}
