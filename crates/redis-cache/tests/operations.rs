//! Every operation against the real Redis, with its counters.

mod support;

use std::time::Duration;

use perfect21_redis_cache::{CacheError, MsgPack, MsgPackCompact, RedisCache};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
    tags: Vec<String>,
}

fn user(id: u64) -> User {
    User {
        id,
        name: format!("user-{id}"),
        tags: vec!["a".into(), "b".into()],
    }
}

#[tokio::test]
async fn get_set_delete_exists_and_counts() {
    let cache = support::cache("ops").await;
    assert_eq!(cache.get::<User>("u1").await.unwrap(), None);
    cache.set("u1", &user(1), None).await.unwrap();
    assert_eq!(cache.get::<User>("u1").await.unwrap(), Some(user(1)));
    assert!(cache.exists("u1").await.unwrap());
    assert!(cache.delete("u1").await.unwrap());
    assert!(!cache.delete("u1").await.unwrap());
    assert!(!cache.exists("u1").await.unwrap());
    assert_eq!(cache.get::<User>("u1").await.unwrap(), None);

    let s = cache.stats();
    assert_eq!((s.hits, s.misses, s.sets, s.deletes), (1, 2, 1, 1));
    assert_eq!((s.errors, s.timeouts, s.decode_errors), (0, 0, 0));
    assert!(s.bytes_written > 0 && s.bytes_written == s.bytes_read);
    assert!((s.hit_ratio() - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(
        s.latency_of(perfect21_redis_cache::CommandFamily::Read)
            .unwrap()
            .count,
        3
    );
}

#[tokio::test]
async fn values_are_stored_under_the_namespace() {
    let cache = support::cache("ns").await;
    cache.set("k", &1u32, None).await.unwrap();
    let mut raw = support::raw(&perfect21_testkit::env::redis_url()).await;
    let stored: Vec<u8> = raw.get(format!("{}:k", cache.namespace())).await.unwrap();
    assert_eq!(stored, b"\x011");
}

#[tokio::test]
async fn ttl_expire_and_default_ttl() {
    let cache = support::builder("ttl")
        .default_ttl(Duration::from_secs(100))
        .fail_open(false)
        .build()
        .await
        .unwrap();
    cache.set("d", &1, None).await.unwrap();
    let ttl = cache.ttl("d").await.unwrap().unwrap();
    assert!(
        ttl > Duration::from_secs(90) && ttl <= Duration::from_secs(100),
        "{ttl:?}"
    );
    cache
        .set("e", &1, Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert!(cache.ttl("e").await.unwrap().unwrap() <= Duration::from_secs(5));
    assert!(cache.expire("e", Duration::from_secs(1000)).await.unwrap());
    assert!(cache.ttl("e").await.unwrap().unwrap() > Duration::from_secs(900));
    assert!(
        !cache
            .expire("missing", Duration::from_secs(1))
            .await
            .unwrap()
    );
    assert_eq!(cache.ttl("missing").await.unwrap(), None);

    let persistent = support::cache("ttl-none").await;
    persistent.set("p", &1, None).await.unwrap();
    assert_eq!(persistent.ttl("p").await.unwrap(), None);
    assert!(persistent.exists("p").await.unwrap());
}

#[tokio::test]
async fn set_nx_and_set_xx() {
    let cache = support::cache("nx").await;
    assert!(!cache.set_xx("k", &1, None).await.unwrap());
    assert!(cache.set_nx("k", &1, None).await.unwrap());
    assert!(!cache.set_nx("k", &2, None).await.unwrap());
    assert_eq!(cache.get::<i32>("k").await.unwrap(), Some(1));
    assert!(cache.set_xx("k", &3, None).await.unwrap());
    assert_eq!(cache.get::<i32>("k").await.unwrap(), Some(3));
    assert_eq!(cache.stats().sets, 2);
}

#[tokio::test]
async fn batches_keep_order() {
    let cache = support::cache("many").await;
    let items: Vec<(String, User)> = (0..50).map(|i| (format!("u{i}"), user(i))).collect();
    cache
        .set_many(&items, Some(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(cache.stats().sets, 50);
    let mut keys: Vec<String> = (0..60).map(|i| format!("u{i}")).collect();
    keys.reverse();
    let got: Vec<Option<User>> = cache.get_many(&keys).await.unwrap();
    for (key, value) in keys.iter().zip(&got) {
        let i: u64 = key[1..].parse().unwrap();
        assert_eq!(
            value.as_ref(),
            if i < 50 {
                Some(&items[i as usize].1)
            } else {
                None
            }
        );
    }
    assert!(cache.ttl("u3").await.unwrap().unwrap() <= Duration::from_secs(60));
    let s = cache.stats();
    assert_eq!((s.hits, s.misses), (50, 10));
    assert_eq!(cache.delete_many(&["u1", "u2", "nope"]).await.unwrap(), 2);
    assert_eq!(cache.stats().deletes, 2);
    assert!(cache.get_many::<User, &str>(&[]).await.unwrap().is_empty());
    cache.set_many::<&str, User>(&[], None).await.unwrap();
}

#[tokio::test]
async fn codecs_and_compression_round_trip() {
    let big: Vec<User> = (0..200).map(user).collect();
    let msgpack = support::builder("mp")
        .codec(MsgPack)
        .fail_open(false)
        .build()
        .await
        .unwrap();
    msgpack.set("big", &big, None).await.unwrap();
    assert_eq!(
        msgpack.get::<Vec<User>>("big").await.unwrap(),
        Some(big.clone())
    );

    let compact = support::builder("mpc")
        .codec(MsgPackCompact)
        .fail_open(false)
        .build()
        .await
        .unwrap();
    compact.set("u", &user(9), None).await.unwrap();
    assert_eq!(compact.get::<User>("u").await.unwrap(), Some(user(9)));

    // Same namespace, one writer compressing and one not: both read both.
    let ns = support::unique_namespace("lz4");
    let url = perfect21_testkit::env::redis_url();
    let packed = RedisCache::builder()
        .url(&url)
        .namespace(&ns)
        .compress_above(256)
        .fail_open(false)
        .build()
        .await
        .unwrap();
    let plain = RedisCache::builder()
        .url(&url)
        .namespace(&ns)
        .fail_open(false)
        .build()
        .await
        .unwrap();
    packed.set("a", &big, None).await.unwrap();
    plain.set("b", &big, None).await.unwrap();
    for cache in [&packed, &plain] {
        assert_eq!(
            cache.get::<Vec<User>>("a").await.unwrap().as_ref(),
            Some(&big)
        );
        assert_eq!(
            cache.get::<Vec<User>>("b").await.unwrap().as_ref(),
            Some(&big)
        );
    }
    assert!(packed.stats().bytes_written * 3 < plain.stats().bytes_written);
}

#[tokio::test]
async fn corrupt_values_read_as_misses_and_can_be_deleted() {
    let url = perfect21_testkit::env::redis_url();
    let mut raw = support::raw(&url).await;
    let keep = support::cache("corrupt").await;
    let purge = support::builder("corrupt-del")
        .delete_corrupt(true)
        .fail_open(false)
        .build()
        .await
        .unwrap();
    for (cache, expect) in [(&keep, (0, 5)), (&purge, (2, 3))] {
        let ns = cache.namespace().to_owned();
        let _: () = raw
            .set(
                format!("{ns}:pickle"),
                b"\x80\x04\x95cos\nsystem\n".as_slice(),
            )
            .await
            .unwrap();
        let _: () = raw
            .set(format!("{ns}:json"), b"\x01{\"id\":".as_slice())
            .await
            .unwrap();
        let _: () = raw
            .set(format!("{ns}:wrongtype"), b"\x01\"text\"".as_slice())
            .await
            .unwrap();
        for key in ["pickle", "json", "wrongtype"] {
            assert_eq!(cache.get::<User>(key).await.unwrap(), None, "{key}");
        }
        let many: Vec<Option<User>> = cache.get_many(&["pickle", "json"]).await.unwrap();
        assert_eq!(many, vec![None, None]);
        let s = cache.stats();
        assert_eq!((s.hits, (s.misses, s.decode_errors)), (0, expect));
    }
    assert!(keep.exists("pickle").await.unwrap());
    assert!(!purge.exists("pickle").await.unwrap());
    assert_eq!(purge.stats().deletes, 3);
}

#[tokio::test]
async fn oversize_values_are_refused() {
    let cache = support::builder("big")
        .max_value_size(100)
        .fail_open(true)
        .build()
        .await
        .unwrap();
    let err = cache.set("k", &"x".repeat(200), None).await.unwrap_err();
    assert!(
        matches!(err, CacheError::ValueTooLarge { max: 100, .. }),
        "{err}"
    );
    let err = cache
        .set_many(&[("a", "small".to_string()), ("b", "x".repeat(200))], None)
        .await
        .unwrap_err();
    assert!(matches!(err, CacheError::ValueTooLarge { .. }));
    assert!(
        !cache.exists("a").await.unwrap(),
        "nothing of a refused batch is written"
    );
    assert_eq!(cache.stats().sets, 0);
}

#[tokio::test]
async fn bad_configuration_names_the_field() {
    let url = perfect21_testkit::env::redis_url();
    let cases: Vec<(&str, perfect21_redis_cache::RedisCacheBuilder)> = vec![
        ("namespace", RedisCache::builder().url(&url)),
        ("namespace", RedisCache::builder().url(&url).namespace("")),
        ("url", RedisCache::builder().namespace("n")),
        ("url", RedisCache::builder().namespace("n").url("not a url")),
        (
            "default_ttl",
            RedisCache::builder()
                .url(&url)
                .namespace("n")
                .default_ttl(Duration::ZERO),
        ),
        (
            "max_value_size",
            RedisCache::builder()
                .url(&url)
                .namespace("n")
                .max_value_size(0),
        ),
        (
            "command_timeout",
            RedisCache::builder()
                .url(&url)
                .namespace("n")
                .command_timeout(Duration::ZERO),
        ),
        (
            "connect_timeout",
            RedisCache::builder()
                .url(&url)
                .namespace("n")
                .connect_timeout(Duration::from_secs(7200)),
        ),
        (
            "scan_count",
            RedisCache::builder().url(&url).namespace("n").scan_count(0),
        ),
        (
            "compress_above",
            RedisCache::builder()
                .url(&url)
                .namespace("n")
                .compress_above(0),
        ),
    ];
    for (field, builder) in cases {
        match builder.build().await {
            Err(CacheError::Config { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected a config error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn password_never_shows() {
    let builder = RedisCache::builder()
        .url("redis://app:hunter2@127.0.0.1:1/0")
        .namespace("n");
    assert!(!format!("{builder:?}").contains("hunter2"));
    let cache = builder
        .command_timeout(Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    assert!(!format!("{cache:?}").contains("hunter2"));
    assert!(format!("{cache:?}").contains("***"));
    // Strict build against a closed port: the error must not leak it either.
    let err = RedisCache::builder()
        .url("redis://app:hunter2@127.0.0.1:1/0")
        .namespace("n")
        .fail_open(false)
        .connect_timeout(Duration::from_millis(200))
        .build()
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"));
}

#[tokio::test]
async fn health_check_and_server_stats() {
    let cache = support::cache("health").await;
    cache.health_check().await.unwrap();
    cache.set("x", &1, None).await.unwrap();
    let s = cache.server_stats().await.unwrap();
    assert!(s.used_memory > 0);
    assert!(s.connected_clients >= 1);
    assert!(s.keys >= 1);
    assert!(!s.maxmemory_policy.is_empty());
}
