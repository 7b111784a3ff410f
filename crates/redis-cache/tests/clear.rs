//! SCAN-based clearing: escaped patterns, namespaces left alone.

mod support;

use perfect21_redis_cache::{RedisCache, escape_glob};
use redis::AsyncCommands;

#[tokio::test]
async fn glob_characters_in_keys_do_not_widen_a_prefix() {
    let cache = support::cache("glob").await;
    for key in [
        "a*",
        "a*1",
        "ab",
        "abc",
        "user[1]",
        "user1",
        "user[1]:x",
        "q?",
        "qq",
        r"s\x",
        "sx",
    ] {
        cache.set(key, &key, None).await.unwrap();
    }
    assert_eq!(cache.clear_prefix("a*").await.unwrap(), 2);
    assert!(cache.exists("ab").await.unwrap() && cache.exists("abc").await.unwrap());
    assert!(!cache.exists("a*1").await.unwrap());
    assert_eq!(cache.clear_prefix("user[1]").await.unwrap(), 2);
    assert!(cache.exists("user1").await.unwrap());
    assert_eq!(cache.clear_prefix("q?").await.unwrap(), 1);
    assert!(cache.exists("qq").await.unwrap());
    assert_eq!(cache.clear_prefix(r"s\").await.unwrap(), 1);
    assert!(cache.exists("sx").await.unwrap());
    // A raw pattern is a glob on purpose; escape_glob makes parts literal.
    assert_eq!(
        cache
            .clear_pattern(&format!("{}*", escape_glob("a")))
            .await
            .unwrap(),
        2
    );
    assert_eq!(cache.stats().deletes, 8);
}

#[tokio::test]
async fn a_namespace_with_glob_characters_is_literal() {
    let url = perfect21_testkit::env::redis_url();
    let base = support::unique_namespace("ns");
    let wide = RedisCache::builder()
        .url(&url)
        .namespace(format!("{base}*"))
        .fail_open(false)
        .build()
        .await
        .unwrap();
    let other = RedisCache::builder()
        .url(&url)
        .namespace(format!("{base}-other"))
        .fail_open(false)
        .build()
        .await
        .unwrap();
    wide.set("k", &1, None).await.unwrap();
    other.set("k", &1, None).await.unwrap();
    assert_eq!(wide.clear_namespace().await.unwrap(), 1);
    assert!(other.exists("k").await.unwrap());
    other.clear_namespace().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_namespace_of_100k_keys_leaves_the_others() {
    let url = perfect21_testkit::env::redis_url();
    let target = support::builder("big")
        .scan_count(500)
        .fail_open(false)
        .build()
        .await
        .unwrap();
    let neighbour = RedisCache::builder()
        .url(&url)
        .namespace(format!("{}x", target.namespace()))
        .fail_open(false)
        .build()
        .await
        .unwrap();
    let items: Vec<(String, u32)> = (0..100_000u32).map(|i| (format!("k{i}"), i)).collect();
    for chunk in items.chunks(5_000) {
        target.set_many(chunk, None).await.unwrap();
    }
    let few: Vec<(String, u32)> = (0..1000u32).map(|i| (format!("k{i}"), i)).collect();
    neighbour.set_many(&few, None).await.unwrap();

    assert_eq!(target.clear_namespace().await.unwrap(), 100_000);
    assert_eq!(target.stats().deletes, 100_000);
    assert!(
        target
            .stats()
            .latency_of(perfect21_redis_cache::CommandFamily::Scan)
            .unwrap()
            .count
            > 1
    );
    let mut raw = support::raw(&url).await;
    let left: Vec<String> = raw
        .keys(format!("{}:*", escape_glob(target.namespace())))
        .await
        .unwrap();
    assert!(left.is_empty());
    let keys: Vec<String> = few.iter().map(|(k, _)| k.clone()).collect();
    let values: Vec<Option<u32>> = neighbour.get_many(&keys).await.unwrap();
    assert!(values.iter().all(Option::is_some));
    assert_eq!(neighbour.clear_namespace().await.unwrap(), 1000);
}
