//! Shared helpers: a cache on `REDIS_URL` under a namespace no other test uses.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use perfect21_redis_cache::{Json, RedisCache, RedisCacheBuilder};

/// A namespace unique to this process and call.
pub(crate) fn unique_namespace(tag: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "t-{tag}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The command timeout of caches whose tests check replies, not latency.
pub(crate) const CORRECTNESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A builder on `REDIS_URL` with a unique namespace.
pub(crate) fn builder(tag: &str) -> RedisCacheBuilder<Json> {
    RedisCache::builder()
        .url(perfect21_testkit::env::redis_url())
        .namespace(unique_namespace(tag))
}

/// Asserts that `result` is the configuration error of builder option
/// `field`.
pub(crate) fn assert_config_error<T: std::fmt::Debug>(
    result: perfect21_redis_cache::Result<T>,
    field: &str,
) {
    match result {
        Err(perfect21_redis_cache::CacheError::Config { field: f, .. }) if f == field => {}
        other => panic!("expected a config error naming `{field}`, got {other:?}"),
    }
}

/// A strict cache (errors returned) on `REDIS_URL`, for tests of what the
/// replies are: its command timeout is generous (30 s, not the default 1 s),
/// so a loaded machine slows these tests down instead of failing them.
pub(crate) async fn cache(tag: &str) -> RedisCache {
    builder(tag)
        .fail_open(false)
        .command_timeout(CORRECTNESS_TIMEOUT)
        .build()
        .await
        .expect("build cache")
}

/// A strict cache with a local tier (1 MiB, 1 h: only invalidations evict)
/// on `REDIS_URL` under `namespace`, which instances share to see each
/// other's writes.
#[cfg(feature = "local")]
pub(crate) async fn local_cache(namespace: &str) -> RedisCache {
    RedisCache::builder()
        .url(perfect21_testkit::env::redis_url())
        .namespace(namespace)
        .local_tier(1 << 20, std::time::Duration::from_secs(3600))
        .fail_open(false)
        .command_timeout(CORRECTNESS_TIMEOUT)
        .build()
        .await
        .expect("build cache with a local tier")
}

/// A raw connection to `url`, for writing what the cache would not (with
/// the generous [`CORRECTNESS_TIMEOUT`]: some tests store values of
/// hundreds of MiB).
pub(crate) async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    let config =
        redis::AsyncConnectionConfig::new().set_response_timeout(Some(CORRECTNESS_TIMEOUT));
    redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .expect("connect")
}

/// Drops `get`/`get_many` futures mid-flight in a loop from 8 tasks, and
/// checks that every completed reply is the one asked for (the crosstalk
/// of redis-rs #489 and deadpool #97 would hand a dropped call's reply to
/// the next caller).
pub(crate) async fn assert_no_crosstalk(cache: RedisCache) {
    use futures_util::FutureExt;
    use std::time::Duration;
    let items: Vec<(String, String)> = (0..200)
        .map(|i| (format!("k{i}"), format!("value-of-k{i}")))
        .collect();
    cache.set_many(&items, None).await.unwrap();

    let mut tasks = Vec::new();
    for t in 0..8usize {
        let cache = cache.clone();
        tasks.push(tokio::spawn(async move {
            let mut checked = 0u32;
            for round in 0..400usize {
                let i = (t * 31 + round * 7) % 200;
                let key = format!("k{i}");
                // Start a request and drop it after at most one poll, or
                // after a timeout shorter than a round trip, in turns.
                let dropped = cache.get::<String>(&key);
                if round % 2 == 0 {
                    let _ = dropped.now_or_never();
                } else {
                    let _ = tokio::time::timeout(Duration::from_micros(20), dropped).await;
                }
                let many_keys = [format!("k{}", (i + 1) % 200), format!("k{}", (i + 2) % 200)];
                if round % 3 == 0 {
                    let _ = cache.get_many::<String, _>(&many_keys).now_or_never();
                }
                // Every completed reply must be the one asked for.
                let j = (i + 5) % 200;
                let got: Option<String> = cache.get(&format!("k{j}")).await.unwrap();
                assert_eq!(got.as_deref(), Some(format!("value-of-k{j}").as_str()));
                let many: Vec<Option<String>> = cache.get_many(&many_keys).await.unwrap();
                for (k, v) in many_keys.iter().zip(many) {
                    assert_eq!(v.unwrap(), format!("value-of-{k}"));
                }
                checked += 1;
            }
            checked
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, 8 * 400);
    assert_eq!(cache.stats().decode_errors, 0);
    assert_eq!(cache.stats().errors, 0);
}

/// Writes `bytes` under `key` of `cache`'s namespace with a raw `SET`: a
/// value the cache itself would not write.
pub(crate) async fn store_raw(cache: &RedisCache, key: &str, bytes: &[u8]) {
    let mut raw = raw(&perfect21_testkit::env::redis_url()).await;
    let _: () = redis::cmd("SET")
        .arg(cache.full_key(key))
        .arg(bytes)
        .query_async(&mut raw)
        .await
        .expect("SET");
}

/// The process's peak resident set since the last [`reset_peak`], bytes.
pub(crate) fn peak_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb * 1024
}

/// Resets the peak resident set to the current one (Linux ≥ 4.0) and
/// returns it.
pub(crate) fn reset_peak() -> usize {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    peak_rss()
}
