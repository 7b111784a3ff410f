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

/// A builder on `REDIS_URL` with a unique namespace.
pub(crate) fn builder(tag: &str) -> RedisCacheBuilder<Json> {
    RedisCache::builder()
        .url(perfect21_testkit::env::redis_url())
        .namespace(unique_namespace(tag))
}

/// A strict cache (errors returned) on `REDIS_URL`.
pub(crate) async fn cache(tag: &str) -> RedisCache {
    builder(tag)
        .fail_open(false)
        .build()
        .await
        .expect("build cache")
}

/// A raw connection to `url`, for writing what the cache would not.
pub(crate) async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect")
}
