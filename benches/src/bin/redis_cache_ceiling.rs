//! The machine's ceiling for perfect21-redis-cache: `redis-benchmark -t
//! get,set -c 64` on the server of `REDIS_URL`; then the overhead of
//! `RedisCache` over the raw `redis` crate (same `ConnectionManager`, same
//! work: `get` hit, `set`, `get_many(100)`) at 1 and 64 tasks, the two
//! sides alternating in 0.25 s slices (ABBA order, 16 slices each) so a
//! burst of load from another process lands on both rather than on one
//! criterion row; and the local tier's invalidation delay. Written to
//! `target/perfect21-results/redis_cache.json` for `cargo xtask bench`.
//!
//! Run: `REDIS_URL=redis://… cargo run --release -p perfect21-benches --bin redis_cache_ceiling`.
#![allow(missing_docs)]

use std::process::Command;
use std::time::{Duration, Instant};

use perfect21_benches::interleave;
use perfect21_benches::redis_cache::{
    KEYS, Record, batch_keys, raw_get, raw_get_many, raw_set, setup,
};
use perfect21_benches::results::{self, Record as Measured};

const BENCH: &str = "redis_cache";
const SLICE: Duration = Duration::from_millis(250);
const SLICES: usize = 16;

fn host_port(url: &str) -> (String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "6379"));
    (host.to_owned(), port.to_owned())
}

/// redis-benchmark's requests per second for GET and SET, with
/// `pipeline` commands in flight per connection (`-P`; 1: none).
fn redis_benchmark(url: &str, pipeline: usize) -> Vec<(String, f64)> {
    let (host, port) = host_port(url);
    let pipeline = pipeline.to_string();
    let requests = if pipeline == "1" { "200000" } else { "2000000" };
    let out = Command::new("redis-benchmark")
        .args([
            "-h", &host, "-p", &port, "-t", "get,set", "-c", "64", "-n", requests, "-P", &pipeline,
            "--csv",
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

/// Calls per second of `ours` and `theirs` with `clients` tasks, each
/// task walking the keys `task, task + clients, …` (mod KEYS).
async fn interleaved<A, FA, B, FB>(ours: A, theirs: B, clients: usize) -> (f64, f64)
where
    A: Fn(usize) -> FA + Clone + Send + 'static,
    FA: Future<Output = ()> + Send,
    B: Fn(usize) -> FB + Clone + Send + 'static,
    FB: Future<Output = ()> + Send,
{
    let walk = move |task: usize, call: u64| (task + call as usize * clients) % KEYS;
    interleave::interleaved(
        move |task, call| ours(walk(task, call)),
        move |task, call| theirs(walk(task, call)),
        clients,
        SLICE,
        SLICES,
    )
    .await
}

/// Local tier staleness: two instances hold a key in L1; a third client
/// (a plain connection, like any script or service) writes it; from the
/// write's acknowledgement until neither instance serves the old value.
/// 500 rounds.
async fn staleness(url: &str) -> Vec<Measured> {
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
    let mut writer = redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let key = a.full_key("k");
    // The stored form of a u32 under the default codec: header byte, JSON.
    let stored = |v: u32| [&[1u8][..], v.to_string().as_bytes()].concat();
    let mut delays = Vec::new();
    for i in 0..500u32 {
        let _: () = redis::cmd("SET")
            .arg(&key)
            .arg(stored(i))
            .query_async(&mut writer)
            .await
            .expect("SET");
        for cache in [&a, &b] {
            // Until the instance serves the value from L1.
            loop {
                let hits = cache.stats().local_hits;
                if cache.get::<u32>("k").await.expect("get") == Some(i)
                    && cache.stats().local_hits > hits
                {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
        let _: () = redis::cmd("SET")
            .arg(&key)
            .arg(stored(i + 1_000_000))
            .query_async(&mut writer)
            .await
            .expect("SET");
        let acknowledged = Instant::now();
        for cache in [&a, &b] {
            while cache.get::<u32>("k").await.expect("get") != Some(i + 1_000_000) {
                tokio::task::yield_now().await;
            }
        }
        delays.push(acknowledged.elapsed().as_secs_f64() * 1e6);
    }
    delays.sort_by(f64::total_cmp);
    let at = |q: f64| delays[((delays.len() - 1) as f64 * q) as usize];
    let case = "L1 staleness, 2 instances: a third client's write acknowledged → no instance serves the old value";
    vec![
        Measured::new(BENCH, case, "p50", at(0.5), "µs"),
        Measured::new(BENCH, case, "p99", at(0.99), "µs"),
        Measured::new(BENCH, case, "max", at(1.0), "µs"),
    ]
}

fn main() {
    let url = perfect21_benches::service_url("REDIS_URL");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (cache, raw) = rt.block_on(setup(&url));

    let mut records = Vec::new();
    let mut ceiling_get = None;
    // Without pipelining (one request in flight per connection, the
    // ceiling for clients that wait for each reply) and with -P 16 (the
    // ceiling for a pipelining client such as a multiplexed connection).
    for pipeline in [1, 16] {
        for (test, rps) in redis_benchmark(&url, pipeline) {
            if test == "GET" && pipeline == 1 {
                ceiling_get = Some(rps);
            }
            let flag = if pipeline == 1 {
                String::new()
            } else {
                format!(" -P {pipeline}")
            };
            records.push(Measured::new(
                BENCH,
                format!("redis-benchmark -t {test} -c 64{flag}"),
                "throughput",
                rps,
                "req/s",
            ));
        }
    }
    let value = Record {
        id: 1,
        name: "name-1".into(),
        score: 0.5,
    };
    let mut get_64 = 0.0;
    for clients in [1usize, 64] {
        let tasks = if clients == 1 { "1 task" } else { "64 tasks" };
        let pairs = [
            (
                "get hit",
                rt.block_on(interleaved(
                    {
                        let cache = cache.clone();
                        move |i| {
                            let cache = cache.clone();
                            async move {
                                let v: Option<Record> =
                                    cache.get(&format!("k{i}")).await.expect("get");
                                assert!(v.is_some());
                            }
                        }
                    },
                    {
                        let raw = raw.clone();
                        move |i| {
                            let raw = raw.clone();
                            async move {
                                raw_get(raw, i).await;
                            }
                        }
                    },
                    clients,
                )),
            ),
            (
                "set",
                rt.block_on(interleaved(
                    {
                        let (cache, value) = (cache.clone(), value.clone());
                        move |i| {
                            let (cache, value) = (cache.clone(), value.clone());
                            async move {
                                cache
                                    .set(&format!("w{i}"), &value, None)
                                    .await
                                    .expect("set");
                            }
                        }
                    },
                    {
                        let (raw, value) = (raw.clone(), value.clone());
                        move |i| {
                            let (raw, value) = (raw.clone(), value.clone());
                            async move { raw_set(raw, i, &value).await }
                        }
                    },
                    clients,
                )),
            ),
            (
                "get_many(100)",
                rt.block_on(interleaved(
                    {
                        let cache = cache.clone();
                        move |t| {
                            let cache = cache.clone();
                            async move {
                                let v: Vec<Option<Record>> =
                                    cache.get_many(&batch_keys(t)).await.expect("get_many");
                                assert_eq!(v.len(), 100);
                            }
                        }
                    },
                    {
                        let raw = raw.clone();
                        move |t| {
                            let raw = raw.clone();
                            async move {
                                assert_eq!(raw_get_many(raw, t).await.len(), 100);
                            }
                        }
                    },
                    clients,
                )),
            ),
        ];
        for (op, (ours, theirs)) in pairs {
            if op == "get hit" && clients == 64 {
                get_64 = ours;
            }
            // Time per call of RedisCache over that of the raw crate, − 1.
            records.push(Measured::new(
                BENCH,
                format!("{op}, {tasks}, interleaved: RedisCache over raw redis"),
                "overhead",
                100.0 * (theirs / ours - 1.0),
                "%",
            ));
            records.push(Measured::new(
                BENCH,
                format!("{op}, {tasks}, interleaved: perfect21"),
                "throughput",
                ours,
                "calls/s",
            ));
            records.push(Measured::new(
                BENCH,
                format!("{op}, {tasks}, interleaved: raw redis crate"),
                "throughput",
                theirs,
                "calls/s",
            ));
        }
    }
    let ours = get_64;
    if let Some(ceiling) = ceiling_get {
        records.push(Measured::new(
            BENCH,
            "perfect21 get hit, 64 tasks ÷ redis-benchmark GET -c 64",
            "share_of_ceiling",
            100.0 * ours / ceiling,
            "%",
        ));
    }
    records.extend(rt.block_on(staleness(&url)));
    let path = results::write(BENCH, &records).expect("write results");
    for r in &records {
        println!("{}: {} = {:.1} {}", r.case, r.metric, r.value, r.unit);
    }
    println!("wrote {}", path.display());
}
