//! Redis going away: fail-open reads miss and writes no-op, counted as
//! errors (not misses); strict mode returns the errors; both recover when
//! the server comes back on the same port.

mod support;

use std::time::Duration;

use perfect21_redis_cache::{CacheError, RedisCache};
use perfect21_testkit::RedisServer;

/// Polls `health_check` until the server answers again (bounded: 30 s).
async fn wait_for_recovery(cache: &RedisCache) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if cache.health_check().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the cache did not reconnect within 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_open_counts_errors_and_recovers() {
    let mut server = RedisServer::start().expect("start a private redis-server");
    let cache = RedisCache::builder()
        .url(server.url())
        .namespace("fo")
        .command_timeout(Duration::from_millis(500))
        .build()
        .await
        .unwrap();
    cache.set("k", &1u32, None).await.unwrap();
    assert_eq!(cache.get::<u32>("k").await.unwrap(), Some(1));

    server.kill();
    assert_eq!(cache.get::<u32>("k").await.unwrap(), None);
    let many: Vec<Option<u32>> = cache.get_many(&["k", "j"]).await.unwrap();
    assert_eq!(many, vec![None, None]);
    cache.set("k", &2u32, None).await.unwrap();
    cache.set_many(&[("a", 1u32)], None).await.unwrap();
    assert!(!cache.delete("k").await.unwrap());
    assert!(!cache.exists("k").await.unwrap());
    assert_eq!(cache.clear_namespace().await.unwrap(), 0);
    let loaded = cache
        .get_or_set("g", None, || async { Ok::<_, std::io::Error>(9u32) })
        .await
        .unwrap();
    assert_eq!(
        loaded, 9,
        "the loader's value is served while Redis is down"
    );
    assert!(
        cache.health_check().await.is_err(),
        "health_check is always strict"
    );

    let s = cache.stats();
    assert_eq!((s.hits, s.misses), (1, 0), "errors are not misses: {s:?}");
    // get, get_many, set, set_many, delete, exists, scan, get_or_set's GET
    // and SET, health_check: ten failed commands.
    assert_eq!(s.errors + s.timeouts, 10, "{s:?}");
    assert_eq!((s.sets, s.deletes, s.loader_runs), (1, 0, 1));

    server.start_again().expect("restart on the same port");
    wait_for_recovery(&cache).await;
    cache.set("k", &3u32, None).await.unwrap();
    assert_eq!(cache.get::<u32>("k").await.unwrap(), Some(3));
    assert_eq!(cache.stats().hits, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_mode_returns_errors() {
    let mut server = RedisServer::start().expect("start a private redis-server");
    let cache = RedisCache::builder()
        .url(server.url())
        .namespace("strict")
        .fail_open(false)
        .command_timeout(Duration::from_millis(500))
        .build()
        .await
        .unwrap();
    cache.set("k", &1u32, None).await.unwrap();
    server.kill();
    let err = cache.get::<u32>("k").await.unwrap_err();
    assert!(
        matches!(err, CacheError::Redis(_) | CacheError::Timeout(_)),
        "{err}"
    );
    assert!(cache.set("k", &1u32, None).await.is_err());
    let load = cache
        .get_or_set("g", None, || async { Ok::<_, std::io::Error>(1u32) })
        .await;
    assert!(load.is_err());
    let s = cache.stats();
    assert_eq!(s.errors + s.timeouts, 3);
    assert_eq!((s.misses, s.loader_runs), (0, 0));

    server.start_again().expect("restart on the same port");
    wait_for_recovery(&cache).await;
    assert_eq!(
        cache.get::<u32>("k").await.unwrap(),
        None,
        "persistence is off: the restart lost it"
    );
}
