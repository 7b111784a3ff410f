//! Probabilistic early expiration (XFetch) of `get_or_set`, made
//! deterministic by an injected random source, and zstd values beside LZ4
//! ones in the same namespace.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const MINUTE: Option<Duration> = Some(Duration::from_secs(60));

/// A loader that returns 1, 2, 3, … per run.
fn counting(
    runs: &Arc<AtomicU32>,
) -> impl FnOnce() -> std::future::Ready<Result<u32, std::io::Error>> + Send + 'static {
    let runs = runs.clone();
    move || std::future::ready(Ok(runs.fetch_add(1, Ordering::SeqCst) + 1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draw_of_one_never_refreshes_a_fresh_value() {
    let cache = support::builder("xf-never")
        .early_refresh(100.0)
        .early_refresh_random(|| 1.0)
        .fail_open(false)
        .build()
        .await
        .unwrap();
    let runs = Arc::new(AtomicU32::new(0));
    for _ in 0..20 {
        assert_eq!(
            cache
                .get_or_set("k", MINUTE, counting(&runs))
                .await
                .unwrap(),
            1
        );
    }
    let s = cache.stats();
    assert_eq!(
        (s.loader_runs, s.early_refreshes, s.hits, s.misses),
        (1, 0, 19, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draw_of_zero_refreshes_in_the_background_and_serves_the_current_value() {
    let cache = support::builder("xf-now")
        .early_refresh_random(|| 0.0)
        .fail_open(false)
        .build()
        .await
        .unwrap();
    let runs = Arc::new(AtomicU32::new(0));
    assert_eq!(
        cache
            .get_or_set("k", MINUTE, counting(&runs))
            .await
            .unwrap(),
        1
    );
    // Found fresh, but due: the caller gets 1 at once, a refresh runs.
    assert_eq!(
        cache
            .get_or_set("k", MINUTE, counting(&runs))
            .await
            .unwrap(),
        1
    );
    while cache.stats().sets < 2 {
        tokio::task::yield_now().await;
    }
    assert_eq!(cache.get::<u32>("k").await.unwrap(), Some(2));
    let s = cache.stats();
    assert_eq!(
        (s.loader_runs, s.early_refreshes, s.stale_served),
        (2, 1, 0)
    );
    // The stored value keeps its Redis TTL (no stale grace is added).
    let ttl = cache.ttl("k").await.unwrap().unwrap();
    assert!(
        ttl <= Duration::from_secs(60) && ttl > Duration::from_secs(50),
        "{ttl:?}"
    );
}

#[tokio::test]
async fn beta_is_validated() {
    for beta in [0.0, -1.0, f64::NAN, 101.0] {
        support::assert_config_error(
            support::builder("xf-bad").early_refresh(beta).build().await,
            "early_refresh",
        );
    }
}

#[cfg(feature = "zstd")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zstd_and_lz4_writers_share_a_namespace() {
    use perfect21_redis_cache::{Compression, RedisCache};
    let namespace = support::unique_namespace("zstd");
    let url = perfect21_testkit::env::redis_url();
    let build = |compression| {
        RedisCache::builder()
            .url(&url)
            .namespace(namespace.clone())
            .compress_above(64)
            .compression(compression)
            .fail_open(false)
            .build()
    };
    let lz4 = build(Compression::Lz4).await.unwrap();
    let zstd = build(Compression::Zstd { level: 3 }).await.unwrap();
    let value: Vec<u32> = (0..500).map(|i| i % 13).collect();
    lz4.set("by-lz4", &value, None).await.unwrap();
    zstd.set("by-zstd", &value, None).await.unwrap();
    for reader in [&lz4, &zstd] {
        let got: Vec<Option<Vec<u32>>> = reader.get_many(&["by-lz4", "by-zstd"]).await.unwrap();
        assert_eq!(got, vec![Some(value.clone()), Some(value.clone())]);
    }
    let mut raw = support::raw(&url).await;
    let stored: Vec<u8> = redis::cmd("GET")
        .arg(zstd.full_key("by-zstd"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(stored[0], 0xa1, "header: zstd-compressed JSON");
    let stored: Vec<u8> = redis::cmd("GET")
        .arg(lz4.full_key("by-lz4"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(stored[0], 0x81, "header: LZ4-compressed JSON");
    support::assert_config_error(
        support::builder("zstd-bad")
            .compression(Compression::Zstd { level: 0 })
            .build()
            .await,
        "compression",
    );
    lz4.clear_namespace().await.unwrap();
}
