//! perfect21-redis-cache beside the raw `redis` crate on the same
//! connection type (`ConnectionManager`): `get` hit, `set` and
//! `get_many(100)` at 1 and 64 concurrent requests, and 100 sequential
//! `get`s against one `get_many(100)`. The raw side is the hand-written
//! cache-aside a user would write instead: the same commands, with
//! `serde_json` on the same record (reading past the header byte of the
//! values RedisCache seeded); RedisCache adds its header byte, key
//! prefix, fail-open handling and counters. The `perfect21_bounded_reads`
//! rows are the same cache with `bounded_reads(true)` (`GETRANGE` per key,
//! so no reply exceeds `max_value_size`): the price of that bound. The connection comparison
//! sends bare GETs. The redis-benchmark ceiling is
//! `--bin redis_cache_ceiling`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::future::join_all;
use perfect21_benches::redis_cache::{
    NAMESPACE, Record, batch_keys, bounded_cache, full_key, raw_get, raw_get_many, raw_set, setup,
};
use perfect21_benches::service_url;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn benches(c: &mut Criterion) {
    let url = service_url("REDIS_URL");
    let rt = runtime();
    let (cache, raw) = rt.block_on(setup(&url));
    let bounded = rt.block_on(bounded_cache(&url));
    let value = Record {
        id: 1,
        name: "name-1".into(),
        score: 0.5,
    };

    for tasks in [1usize, 64] {
        let param = format!("{tasks}_tasks");

        let mut group = c.benchmark_group("redis_cache/get_hit");
        group.throughput(Throughput::Elements(tasks as u64));
        group.bench_function(BenchmarkId::new("perfect21", &param), |b| {
            b.to_async(&rt).iter(|| {
                join_all((0..tasks).map(|i| {
                    let cache = cache.clone();
                    async move {
                        let v: Option<Record> = cache.get(&format!("k{i}")).await.expect("get");
                        v.expect("seeded")
                    }
                }))
            })
        });
        group.bench_function(BenchmarkId::new("perfect21_bounded_reads", &param), |b| {
            b.to_async(&rt).iter(|| {
                join_all((0..tasks).map(|i| {
                    let cache = bounded.clone();
                    async move {
                        let v: Option<Record> = cache.get(&format!("k{i}")).await.expect("get");
                        v.expect("seeded")
                    }
                }))
            })
        });
        group.bench_function(BenchmarkId::new("redis", &param), |b| {
            b.to_async(&rt)
                .iter(|| join_all((0..tasks).map(|i| raw_get(raw.clone(), i))))
        });
        group.finish();

        let mut group = c.benchmark_group("redis_cache/set");
        group.throughput(Throughput::Elements(tasks as u64));
        group.bench_function(BenchmarkId::new("perfect21", &param), |b| {
            b.to_async(&rt).iter(|| {
                join_all((0..tasks).map(|i| {
                    let cache = cache.clone();
                    let value = value.clone();
                    async move {
                        cache
                            .set(&format!("w{i}"), &value, None)
                            .await
                            .expect("set")
                    }
                }))
            })
        });
        group.bench_function(BenchmarkId::new("redis", &param), |b| {
            b.to_async(&rt).iter(|| {
                join_all((0..tasks).map(|i| {
                    let raw = raw.clone();
                    let value = value.clone();
                    async move { raw_set(raw, i, &value).await }
                }))
            })
        });
        group.finish();

        let mut group = c.benchmark_group("redis_cache/get_many_100");
        group.throughput(Throughput::Elements((tasks * 100) as u64));
        group.bench_function(BenchmarkId::new("perfect21", &param), |b| {
            b.to_async(&rt).iter(|| {
                join_all((0..tasks).map(|t| {
                    let cache = cache.clone();
                    async move {
                        let v: Vec<Option<Record>> =
                            cache.get_many(&batch_keys(t)).await.expect("get_many");
                        v
                    }
                }))
            })
        });
        group.bench_function(BenchmarkId::new("perfect21_bounded_reads", &param), |b| {
            b.to_async(&rt).iter(|| {
                join_all((0..tasks).map(|t| {
                    let cache = bounded.clone();
                    async move {
                        let v: Vec<Option<Record>> =
                            cache.get_many(&batch_keys(t)).await.expect("get_many");
                        v
                    }
                }))
            })
        });
        group.bench_function(BenchmarkId::new("redis", &param), |b| {
            b.to_async(&rt)
                .iter(|| join_all((0..tasks).map(|t| raw_get_many(raw.clone(), t))))
        });
        group.finish();
    }

    // Filling 100 keys that Redis lacks (fresh keys each iteration, a
    // 60 s TTL): get_many_or_set — one MGET, one loader call, one SET
    // pipeline — beside get_many then get_or_set per missing key (a GET
    // and a SET each: the pattern without the primitive) and beside the
    // hand-written raw equivalent (MGET, then a pipeline of SET PX).
    // Keys no earlier run left behind (a run within the TTL of the last
    // would otherwise read its keys back as hits).
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let fresh = std::sync::atomic::AtomicUsize::new(0);
    let next_keys = || {
        let start = fresh.fetch_add(100, std::sync::atomic::Ordering::Relaxed);
        (start..start + 100)
            .map(|i| format!("f{run}-{i}"))
            .collect::<Vec<String>>()
    };
    let ttl = Some(std::time::Duration::from_secs(60));
    let load = |id: &str| Record {
        id: id.len() as u64,
        name: id.to_owned(),
        score: 0.5,
    };
    let mut group = c.benchmark_group("redis_cache/fill_100_missing");
    group.throughput(Throughput::Elements(100));
    group.bench_function(BenchmarkId::new("perfect21", "get_many_or_set"), |b| {
        b.to_async(&rt).iter(|| {
            let keys = next_keys();
            let cache = cache.clone();
            async move {
                let v: Vec<Option<Record>> = cache
                    .get_many_or_set(&keys, ttl, move |missing: Vec<String>| async move {
                        Ok::<_, std::io::Error>(
                            missing
                                .into_iter()
                                .map(|k| {
                                    let r = load(&k);
                                    (k, r)
                                })
                                .collect::<Vec<_>>(),
                        )
                    })
                    .await
                    .expect("get_many_or_set");
                v
            }
        })
    });
    group.bench_function(
        BenchmarkId::new("perfect21_get_many_then_get_or_set", "get_many_or_set"),
        |b| {
            b.to_async(&rt).iter(|| {
                let keys = next_keys();
                let cache = cache.clone();
                async move {
                    let found: Vec<Option<Record>> = cache.get_many(&keys).await.expect("get_many");
                    join_all(keys.into_iter().zip(found).map(|(key, hit)| {
                        let cache = cache.clone();
                        async move {
                            match hit {
                                Some(record) => record,
                                None => {
                                    let r = load(&key);
                                    cache
                                        .get_or_set(&key, ttl, move || async move {
                                            Ok::<_, std::io::Error>(r)
                                        })
                                        .await
                                        .expect("get_or_set")
                                }
                            }
                        }
                    }))
                    .await
                }
            })
        },
    );
    group.bench_function(BenchmarkId::new("redis", "get_many_or_set"), |b| {
        b.to_async(&rt).iter(|| {
            let keys = next_keys();
            let mut raw = raw.clone();
            async move {
                let full: Vec<String> = keys.iter().map(|k| format!("{NAMESPACE}:{k}")).collect();
                let found: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                    .arg(&full)
                    .query_async(&mut raw)
                    .await
                    .expect("MGET");
                let mut pipe = redis::pipe();
                let mut stores = 0;
                let mut out = Vec::with_capacity(keys.len());
                for ((key, full), hit) in keys.iter().zip(&full).zip(found) {
                    let record = match hit {
                        Some(bytes) => serde_json::from_slice(&bytes).expect("json"),
                        None => {
                            let r = load(key);
                            stores += 1;
                            pipe.cmd("SET")
                                .arg(full)
                                .arg(serde_json::to_vec(&r).expect("json"))
                                .arg("PX")
                                .arg(60_000)
                                .ignore();
                            r
                        }
                    };
                    out.push(record);
                }
                // redis-rs refuses an empty pipeline: nothing to store.
                if stores > 0 {
                    let _: () = pipe.query_async(&mut raw).await.expect("SET pipeline");
                }
                out
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("redis_cache/100_keys");
    group.throughput(Throughput::Elements(100));
    let keys: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
    group.bench_function(BenchmarkId::new("perfect21", "get_many"), |b| {
        b.to_async(&rt).iter(|| async {
            let v: Vec<Option<Record>> = cache.get_many(&keys).await.expect("get_many");
            v
        })
    });
    group.bench_function(
        BenchmarkId::new("perfect21_sequential_get", "get_many"),
        |b| {
            b.to_async(&rt).iter(|| async {
                let mut out = Vec::with_capacity(100);
                for key in &keys {
                    let v: Option<Record> = cache.get(key).await.expect("get");
                    out.push(v);
                }
                out
            })
        },
    );
    group.finish();
}

/// The connection under `RedisCache`: redis-rs's multiplexed
/// `ConnectionManager` (the default) beside the deadpool-redis and
/// bb8-redis pools, `GET` of a present key at 1, 64 and 256 requests in
/// flight. Each pool in its best configuration for the load: as many
/// connections as requests in flight (no task waits for a connection),
/// created before the measurement; bb8 without its checkout test
/// (`test_on_check_out(false)`); deadpool-redis pings every connection it
/// hands out (`UNWATCH` + `PING` in its `recycle`, not configurable), so
/// that round trip is part of its row. Function ids name the crates.
fn connections(c: &mut Criterion) {
    let url = service_url("REDIS_URL");
    let rt = runtime();
    let (_, manager) = rt.block_on(setup(&url));
    let mut group = c.benchmark_group("redis_cache/connection_get");
    for tasks in [1usize, 64, 256] {
        let mut config = deadpool_redis::Config::from_url(url.clone());
        config.pool = Some(deadpool_redis::PoolConfig::new(tasks));
        let deadpool = config
            .create_pool(Some(deadpool_redis::Runtime::Tokio1))
            .expect("deadpool");
        let bb8 = rt.block_on(async {
            bb8::Pool::builder()
                .max_size(tasks as u32)
                .min_idle(Some(tasks as u32))
                .test_on_check_out(false)
                .build(bb8_redis::RedisConnectionManager::new(url.as_str()).expect("bb8 manager"))
                .await
                .expect("bb8 pool")
        });
        // Open every connection before measuring.
        rt.block_on(async {
            let held = join_all((0..tasks).map(|_| deadpool.get())).await;
            drop(held);
            let held = join_all((0..tasks).map(|_| bb8.get())).await;
            drop(held);
        });
        let param = format!("{tasks}_tasks");
        group.throughput(Throughput::Elements(tasks as u64));
        group.bench_function(BenchmarkId::new("redis-ConnectionManager", &param), |b| {
            b.to_async(&rt).iter(|| {
                join_all((0..tasks).map(|i| {
                    let mut connection = manager.clone();
                    async move { seeded_get(&mut connection, i).await }
                }))
            })
        });
        group.bench_function(BenchmarkId::new("deadpool-redis", &param), |b| {
            b.to_async(&rt).iter(|| {
                join_all((0..tasks).map(|i| {
                    let pool = deadpool.clone();
                    async move {
                        let mut connection = pool.get().await.expect("deadpool get");
                        seeded_get(&mut *connection, i).await
                    }
                }))
            })
        });
        group.bench_function(BenchmarkId::new("bb8-redis", &param), |b| {
            b.to_async(&rt).iter(|| {
                join_all((0..tasks).map(|i| {
                    let pool = bb8.clone();
                    async move {
                        let mut connection = pool.get().await.expect("bb8 get");
                        seeded_get(&mut *connection, i).await
                    }
                }))
            })
        });
    }
    group.finish();
}

/// A bare `GET` of seeded key `i` on any connection type.
async fn seeded_get(connection: &mut impl redis::aio::ConnectionLike, i: usize) -> Vec<u8> {
    let v: Option<Vec<u8>> = redis::cmd("GET")
        .arg(full_key(i))
        .query_async(connection)
        .await
        .expect("GET");
    v.expect("seeded")
}

/// An L1 hit of the local tier beside a Redis hit of the same value.
fn local_tier(c: &mut Criterion) {
    let url = service_url("REDIS_URL");
    let rt = runtime();
    let (plain, _) = rt.block_on(setup(&url));
    let with_l1 = rt.block_on(async {
        perfect21_redis_cache::RedisCache::builder()
            .url(url.as_str())
            .namespace(perfect21_benches::redis_cache::NAMESPACE)
            .local_tier(64 << 20, std::time::Duration::from_secs(600))
            .build()
            .await
            .expect("cache with a local tier")
    });
    let mut group = c.benchmark_group("redis_cache/l1_hit");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("perfect21", "get"), |b| {
        b.to_async(&rt).iter(|| async {
            let v: Option<Record> = with_l1.get("k1").await.expect("get");
            v.expect("seeded")
        })
    });
    group.bench_function(BenchmarkId::new("perfect21_redis_hit", "get"), |b| {
        b.to_async(&rt).iter(|| async {
            let v: Option<Record> = plain.get("k1").await.expect("get");
            v.expect("seeded")
        })
    });
    group.finish();
}

criterion_group!(redis_cache, benches, connections, local_tier);
criterion_main!(redis_cache);
