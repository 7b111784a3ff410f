//! Stale-while-revalidate: a value past its fresh-until time is served at
//! once while one background refresh replaces it.

mod support;

use std::sync::Arc;
use std::time::Duration;

use perfect21_redis_cache::{CacheError, RedisCache};
use redis::AsyncCommands;
use tokio::sync::Notify;

/// The bytes the cache writes for the JSON value `json` whose fresh-until
/// time is `until` (Unix ms): header 0x41 (JSON, fresh-until follows).
fn framed(until: u64, json: &str) -> Vec<u8> {
    let mut bytes = vec![0x41];
    bytes.extend_from_slice(&until.to_le_bytes());
    bytes.extend_from_slice(json.as_bytes());
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_values_are_served_while_one_refresh_runs() {
    let cache = support::builder("swr")
        .stale_while_revalidate(Duration::from_secs(30))
        .fail_open(false)
        .build()
        .await
        .unwrap();
    let mut raw = support::raw(&perfect21_testkit::env::redis_url()).await;
    let full = format!("{}:k", cache.namespace());
    // Fresh until 1 ms after the epoch: long stale.
    let _: () = raw.set(&full, framed(1, "\"old\"")).await.unwrap();

    let gate = Arc::new(Notify::new());
    let refresh_gate = gate.clone();
    let first: String = cache
        .get_or_set("k", Some(Duration::from_secs(60)), move || async move {
            refresh_gate.notified().await;
            Ok::<_, std::io::Error>("new".to_string())
        })
        .await
        .unwrap();
    assert_eq!(first, "old", "the stale value is served at once");

    // While the refresh is held open, later callers get the stale value too
    // and start no second loader.
    let second: String = cache
        .get_or_set("k", Some(Duration::from_secs(60)), || async {
            Err::<String, _>(std::io::Error::other("a second refresh must not run"))
        })
        .await
        .unwrap();
    assert_eq!(second, "old");
    assert_eq!(cache.stats().stale_served, 2);

    gate.notify_one();
    for _ in 0..5000 {
        if cache.get::<String>("k").await.unwrap().as_deref() == Some("new") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("new")
    );
    let s = cache.stats();
    assert_eq!((s.loader_runs, s.loader_errors, s.sets), (1, 0, 1));

    // Stored with its fresh-until time and a TTL of ttl + grace.
    let stored: Vec<u8> = raw.get(&full).await.unwrap();
    assert_eq!(stored[0], 0x41);
    let ttl = cache.ttl("k").await.unwrap().unwrap();
    assert!(
        ttl > Duration::from_secs(60) && ttl <= Duration::from_secs(90),
        "{ttl:?}"
    );
    // Fresh now: no stale serve, no loader.
    let third: String = cache
        .get_or_set("k", None, || async {
            Err::<String, _>(std::io::Error::other("must not run"))
        })
        .await
        .unwrap();
    assert_eq!(third, "new");
    assert_eq!(cache.stats().stale_served, 2);
}

#[tokio::test]
async fn grace_is_validated() {
    let url = perfect21_testkit::env::redis_url();
    for grace in [Duration::ZERO, Duration::from_secs(86_401)] {
        let r = RedisCache::builder()
            .url(&url)
            .namespace("n")
            .stale_while_revalidate(grace)
            .build()
            .await;
        assert!(
            matches!(
                r,
                Err(CacheError::Config {
                    field: "stale_while_revalidate",
                    ..
                })
            ),
            "{r:?}"
        );
    }
}
