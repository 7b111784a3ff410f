//! The local tier: reads fill L1, L1 hits are counted apart, a write
//! evicts this instance's L1 at once, and every writer's change — another
//! instance's, or any other client's — evicts the stale L1 entry.
#![cfg(feature = "local")]

mod support;

use std::time::Duration;

use perfect21_redis_cache::{CacheError, RedisCache};

/// Reads `key` through `cache` until it returns `want` (bounded: 5 s).
async fn until_reads(cache: &RedisCache, key: &str, want: Option<u32>) {
    for _ in 0..5000 {
        if cache.get::<u32>(key).await.unwrap() == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("{key} never read as {want:?}");
}

/// Waits (bounded: 5 s) until Redis's invalidations have reached `cache`
/// `total` times — the sync point after a write, instead of a sleep.
async fn until_invalidated(cache: &RedisCache, total: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while cache.stats().local_invalidations < total {
        assert!(
            std::time::Instant::now() < deadline,
            "{total} invalidations never arrived: {:?}",
            cache.stats()
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn reads_fill_l1_writes_evict_it_and_l1_hits_are_counted_apart() {
    let cache = support::local_cache(&support::unique_namespace("l1")).await;
    cache.set("k", &1u32, None).await.unwrap();
    until_invalidated(&cache, 1).await; // Redis reports this instance's own write too
    assert_eq!(cache.get::<u32>("k").await.unwrap(), Some(1)); // Redis: a write does not fill L1
    assert_eq!(cache.get::<u32>("k").await.unwrap(), Some(1)); // L1
    let s = cache.stats();
    assert_eq!((s.local_hits, s.hits, s.misses), (1, 1, 0));
    assert_eq!(
        s.latency_of(perfect21_redis_cache::CommandFamily::Read)
            .unwrap()
            .count,
        1
    );

    cache
        .set_many(&[("a", 1u32), ("b", 2)], None)
        .await
        .unwrap();
    until_invalidated(&cache, 3).await;
    for _ in 0..2 {
        let got: Vec<Option<u32>> = cache.get_many(&["a", "x", "b"]).await.unwrap();
        assert_eq!(got, vec![Some(1), None, Some(2)]);
    }
    let s = cache.stats();
    // First round from Redis (2 hits, 1 miss), second: a and b from L1.
    assert_eq!((s.local_hits, s.hits, s.misses), (3, 3, 2));
    assert!((s.hit_ratio() - 0.75).abs() < 1e-12);

    let v: u32 = cache
        .get_or_set("a", None, || async {
            Err::<u32, _>(std::io::Error::other("must not run"))
        })
        .await
        .unwrap();
    assert_eq!((v, cache.stats().local_hits), (1, 4));

    // Read-your-writes: a write evicts this instance's L1 before it returns.
    cache.set("a", &5u32, None).await.unwrap();
    assert_eq!(cache.get::<u32>("a").await.unwrap(), Some(5));
    assert!(cache.delete("k").await.unwrap());
    assert_eq!(
        cache.get::<u32>("k").await.unwrap(),
        None,
        "delete evicts L1 at once"
    );
    cache.clear_namespace().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instance_s_writes_evict_stale_entries() {
    let namespace = support::unique_namespace("l1x");
    let a = support::local_cache(&namespace).await;
    let b = support::local_cache(&namespace).await;
    b.set("k", &1u32, None).await.unwrap();
    until_invalidated(&a, 1).await;
    assert_eq!(a.get::<u32>("k").await.unwrap(), Some(1)); // Redis hit, now in a's L1
    assert_eq!(a.get::<u32>("k").await.unwrap(), Some(1)); // L1 hit
    assert_eq!(a.stats().local_hits, 1);

    b.set("k", &2u32, None).await.unwrap();
    until_reads(&a, "k", Some(2)).await;
    b.set_many(&[("k", 3u32)], None).await.unwrap();
    until_reads(&a, "k", Some(3)).await;
    assert!(b.set_xx("k", &4u32, None).await.unwrap());
    until_reads(&a, "k", Some(4)).await;
    b.delete("k").await.unwrap();
    until_reads(&a, "k", None).await;

    b.set("j", &1u32, None).await.unwrap();
    until_reads(&a, "j", Some(1)).await;
    b.clear_namespace().await.unwrap();
    until_reads(&a, "j", None).await;
}

#[tokio::test]
async fn local_tier_needs_a_url_and_valid_bounds() {
    let url = perfect21_testkit::env::redis_url();
    let connection = redis::aio::ConnectionManager::new(redis::Client::open(url.as_str()).unwrap())
        .await
        .unwrap();
    let cases = [
        RedisCache::builder()
            .connection(connection)
            .namespace("n")
            .local_tier(1024, Duration::from_secs(1)),
        RedisCache::builder()
            .url(&url)
            .namespace("n")
            .local_tier(0, Duration::from_secs(1)),
        RedisCache::builder()
            .url(&url)
            .namespace("n")
            .local_tier(1024, Duration::ZERO),
    ];
    for builder in cases {
        match builder.build().await {
            Err(CacheError::Config { field, .. }) => assert_eq!(field, "local_tier"),
            other => panic!("expected a local_tier config error, got {other:?}"),
        }
    }
}

/// Redis reports an expiry to the tier only when it reclaims the key; with
/// active expiry off (as for a key its sampling has not reached yet among
/// many volatile keys) that is never, unless someone reads the key. So L1
/// must keep a copy no longer than Redis keeps the value, by every read
/// path that fills it.
#[tokio::test]
async fn l1_never_outlives_the_redis_ttl_when_redis_has_not_reclaimed_the_key() {
    let server = perfect21_testkit::RedisServer::start().expect("start a private redis-server");
    server
        .command(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"])
        .expect("DEBUG SET-ACTIVE-EXPIRE 0");
    let cache = RedisCache::builder()
        .url(server.url())
        .namespace("l1-ttl")
        .local_tier(1 << 20, Duration::from_secs(3600))
        .fail_open(false)
        .command_timeout(support::CORRECTNESS_TIMEOUT)
        .build()
        .await
        .unwrap();
    let ttl = Some(Duration::from_millis(300));
    for key in ["get", "many", "get_or_set"] {
        cache.set(key, &7u32, ttl).await.unwrap();
    }
    // Fill L1 by each path, then read back from L1.
    assert_eq!(cache.get::<u32>("get").await.unwrap(), Some(7));
    let many: Vec<Option<u32>> = cache.get_many(&["many"]).await.unwrap();
    assert_eq!(many, [Some(7)]);
    let loaded = cache
        .get_or_set("get_or_set", ttl, || async {
            Ok::<_, std::io::Error>(0u32)
        })
        .await
        .unwrap();
    assert_eq!(loaded, 7, "found in Redis, not loaded");
    let before = cache.stats().local_hits;
    for key in ["get", "many", "get_or_set"] {
        assert_eq!(cache.get::<u32>(key).await.unwrap(), Some(7));
    }
    assert_eq!(cache.stats().local_hits - before, 3, "all three are in L1");

    // Once the TTL has run out, every key reads as a miss (bounded: 10 s;
    // the tier's own TTL is an hour and no invalidation ever comes).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for key in ["get", "many", "get_or_set"] {
        while cache.get::<u32>(key).await.unwrap().is_some() {
            assert!(
                std::time::Instant::now() < deadline,
                "{key}: L1 still serves a value whose 300 ms Redis TTL ran out 10 s ago"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(
        cache.stats().misses,
        3,
        "each read that ended it was a Redis miss"
    );
}

/// A value past its fresh-until time must reach `get_or_set` from Redis —
/// where stale-while-revalidate serves it once and refreshes it — not from
/// L1 until the Redis TTL (which includes the grace) runs out.
#[tokio::test]
async fn stale_while_revalidate_still_refreshes_what_l1_holds() {
    let cache = RedisCache::builder()
        .url(perfect21_testkit::env::redis_url())
        .namespace(support::unique_namespace("l1-swr"))
        .local_tier(1 << 20, Duration::from_secs(3600))
        .stale_while_revalidate(Duration::from_secs(30))
        .fail_open(false)
        .command_timeout(support::CORRECTNESS_TIMEOUT)
        .build()
        .await
        .unwrap();
    let loads = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let load = || {
        let loads = loads.clone();
        move || async move {
            Ok::<_, std::io::Error>(loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1)
        }
    };
    let ttl = Some(Duration::from_millis(200));
    assert_eq!(cache.get_or_set("k", ttl, load()).await.unwrap(), 1);
    // Read from Redis (fills L1), then from L1.
    assert_eq!(cache.get_or_set("k", ttl, load()).await.unwrap(), 1);
    assert_eq!(cache.get_or_set("k", ttl, load()).await.unwrap(), 1);
    assert!(cache.stats().local_hits >= 1);
    // Past fresh-until the value is served stale once and refreshed in the
    // background (bounded: 10 s; the Redis TTL is 30.2 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while cache.stats().stale_served == 0 || loads.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "L1 kept serving the value past its fresh-until time: {:?}",
            cache.stats()
        );
        let _ = cache.get_or_set("k", ttl, load()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
