//! The pool backends (features `deadpool`, `bb8`): the operations' core
//! and cancellation safety on each, against `REDIS_URL`.
#![cfg(any(feature = "deadpool", feature = "bb8"))]

mod support;

use perfect21_redis_cache::{CacheError, RedisCache};

/// get / set / get_many / delete / clear on `cache`, with exact stats.
async fn core_operations(cache: RedisCache) {
    assert_eq!(cache.get::<String>("a").await.unwrap(), None);
    cache.set("a", &"alpha", None).await.unwrap();
    assert_eq!(
        cache.get::<String>("a").await.unwrap().as_deref(),
        Some("alpha")
    );
    let items: Vec<(String, u32)> = (0..50).map(|i| (format!("n{i}"), i)).collect();
    cache.set_many(&items, None).await.unwrap();
    let keys: Vec<String> = (0..52).map(|i| format!("n{i}")).collect();
    let got: Vec<Option<u32>> = cache.get_many(&keys).await.unwrap();
    for (i, value) in got.iter().enumerate() {
        assert_eq!(*value, (i < 50).then_some(i as u32));
    }
    assert!(cache.set_nx("nx", &1u8, None).await.unwrap());
    assert!(!cache.set_nx("nx", &1u8, None).await.unwrap());
    assert!(cache.delete("a").await.unwrap());
    assert_eq!(cache.clear_namespace().await.unwrap(), 51);
    assert_eq!(cache.get::<u32>("n1").await.unwrap(), None);
    let s = cache.stats();
    assert_eq!((s.hits, s.misses), (1 + 50, 1 + 2 + 1));
    assert_eq!((s.sets, s.deletes), (1 + 50 + 1, 1 + 51));
    assert_eq!((s.errors, s.timeouts, s.decode_errors), (0, 0, 0));
    cache.health_check().await.unwrap();
}

#[cfg(feature = "deadpool")]
fn deadpool_pool() -> deadpool_redis::Pool {
    let mut config = deadpool_redis::Config::from_url(perfect21_testkit::env::redis_url());
    config.pool = Some(deadpool_redis::PoolConfig::new(4));
    config
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .expect("deadpool")
}

#[cfg(feature = "deadpool")]
async fn deadpool_cache(tag: &str) -> RedisCache {
    RedisCache::builder()
        .deadpool(deadpool_pool())
        .namespace(support::unique_namespace(tag))
        .fail_open(false)
        .command_timeout(support::CORRECTNESS_TIMEOUT)
        .build()
        .await
        .expect("build on deadpool")
}

#[cfg(feature = "deadpool")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadpool_core_operations() {
    core_operations(deadpool_cache("dp-core").await).await;
}

#[cfg(feature = "deadpool")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadpool_dropped_futures_cause_no_crosstalk() {
    support::assert_no_crosstalk(deadpool_cache("dp-xtalk").await).await;
}

#[cfg(feature = "bb8")]
async fn bb8_cache(tag: &str) -> RedisCache {
    let manager = bb8_redis::RedisConnectionManager::new(perfect21_testkit::env::redis_url())
        .expect("bb8 manager");
    let pool = bb8::Pool::builder()
        .max_size(4)
        .build(manager)
        .await
        .expect("bb8 pool");
    RedisCache::builder()
        .bb8(pool)
        .namespace(support::unique_namespace(tag))
        .fail_open(false)
        .command_timeout(support::CORRECTNESS_TIMEOUT)
        .build()
        .await
        .expect("build on bb8")
}

#[cfg(feature = "bb8")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bb8_core_operations() {
    core_operations(bb8_cache("bb8-core").await).await;
}

#[cfg(feature = "bb8")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bb8_dropped_futures_cause_no_crosstalk() {
    support::assert_no_crosstalk(bb8_cache("bb8-xtalk").await).await;
}

#[cfg(feature = "deadpool")]
#[tokio::test]
async fn a_pool_and_a_url_together_are_refused() {
    support::assert_config_error(
        RedisCache::builder()
            .deadpool(deadpool_pool())
            .url(perfect21_testkit::env::redis_url())
            .namespace("x")
            .build()
            .await,
        "pool",
    );
}

#[cfg(feature = "deadpool")]
#[tokio::test]
async fn a_pool_that_cannot_connect_is_an_error_or_a_counted_miss() {
    let mut config = deadpool_redis::Config::from_url("redis://:hunter2@127.0.0.1:1");
    config.pool = Some(deadpool_redis::PoolConfig::new(1));
    let pool = config
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .unwrap();
    let strict = RedisCache::builder()
        .deadpool(pool.clone())
        .namespace("x")
        .fail_open(false)
        .build()
        .await
        .unwrap();
    let err = strict.get::<u8>("k").await.unwrap_err();
    assert!(matches!(err, CacheError::Redis(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
    assert_eq!(strict.stats().errors, 1);
    let open = RedisCache::builder()
        .deadpool(pool)
        .namespace("x")
        .build()
        .await
        .unwrap();
    assert_eq!(open.get::<u8>("k").await.unwrap(), None);
    let s = open.stats();
    assert_eq!((s.errors, s.misses), (1, 0));
}
