//! Redis Cluster (feature `cluster`) against the three-master cluster of
//! `REDIS_CLUSTER_URLS`: batches across slots and masters, clears that
//! reach every master, exact stats, single-flight.
#![cfg(feature = "cluster")]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use perfect21_redis_cache::RedisCache;
use redis::aio::MultiplexedConnection;
use tokio::sync::Notify;

/// A strict cache on the cluster under a fresh namespace.
async fn cluster_cache(namespace: String) -> RedisCache {
    RedisCache::builder()
        .cluster_urls(perfect21_testkit::env::redis_cluster_urls())
        .namespace(namespace)
        .fail_open(false)
        .build()
        .await
        .expect("build a cluster cache")
}

/// One plain connection per node, and which node serves each slot
/// (the server's own `CLUSTER SLOTS`, by node port).
struct Nodes {
    by_port: BTreeMap<u16, MultiplexedConnection>,
    slot_owner: Vec<u16>,
}

impl Nodes {
    async fn connect() -> Self {
        let mut by_port = BTreeMap::new();
        for url in perfect21_testkit::env::redis_cluster_urls() {
            let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
            by_port.insert(port, support::raw(&url).await);
        }
        let any = by_port.values_mut().next().unwrap();
        let ranges: Vec<(u16, u16, (String, u16))> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async::<Vec<redis::Value>>(any)
            .await
            .unwrap()
            .into_iter()
            .map(|range| {
                let parts: Vec<redis::Value> = redis::from_redis_value(range).unwrap();
                let start: u16 = redis::from_redis_value(parts[0].clone()).unwrap();
                let end: u16 = redis::from_redis_value(parts[1].clone()).unwrap();
                let node: Vec<redis::Value> = redis::from_redis_value(parts[2].clone()).unwrap();
                let host: String = redis::from_redis_value(node[0].clone()).unwrap();
                let port: u16 = redis::from_redis_value(node[1].clone()).unwrap();
                (start, end, (host, port))
            })
            .collect();
        let mut slot_owner = vec![0u16; 16384];
        for (start, end, (_, port)) in ranges {
            for slot in start..=end {
                slot_owner[slot as usize] = port;
            }
        }
        assert!(slot_owner.iter().all(|&p| p != 0), "every slot is served");
        assert_eq!(by_port.len(), 3, "the testkit cluster has three masters");
        Self {
            by_port,
            slot_owner,
        }
    }

    /// The server's slot of `key` (`CLUSTER KEYSLOT`).
    async fn slot(&mut self, key: &str) -> u16 {
        let any = self.by_port.values_mut().next().unwrap();
        redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query_async(any)
            .await
            .unwrap()
    }

    /// How many keys matching `glob` each master holds (SCAN on each).
    async fn count_per_master(&mut self, glob: &str) -> BTreeMap<u16, usize> {
        let mut counts = BTreeMap::new();
        for (&port, connection) in &mut self.by_port {
            let mut cursor = 0u64;
            let mut n = 0;
            loop {
                let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(glob)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(connection)
                    .await
                    .unwrap();
                n += keys.len();
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            counts.insert(port, n);
        }
        counts
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_span_slots_and_masters_and_come_back_in_order() {
    let namespace = support::unique_namespace("cl-batch");
    let cache = cluster_cache(namespace.clone()).await;
    let mut nodes = Nodes::connect().await;

    let keys: Vec<String> = (0..60).map(|i| format!("k{i}")).collect();
    let mut slots = BTreeSet::new();
    let mut masters = BTreeSet::new();
    for key in &keys {
        let slot = nodes.slot(&cache.full_key(key)).await;
        slots.insert(slot);
        masters.insert(nodes.slot_owner[slot as usize]);
    }
    assert!(slots.len() > 30, "keys spread over many slots: {slots:?}");
    assert_eq!(masters.len(), 3, "keys span all three masters");

    let items: Vec<(String, u64)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), i as u64 * 10))
        .collect();
    cache.set_many(&items, None).await.unwrap();
    // Each master holds its share, and together exactly the 60.
    let counts = nodes.count_per_master(&format!("{namespace}:*")).await;
    assert!(counts.values().all(|&n| n > 0), "{counts:?}");
    assert_eq!(counts.values().sum::<usize>(), 60);

    // Ask in a shuffled order with absent keys mixed in.
    let mut asked: Vec<String> = keys.iter().rev().cloned().collect();
    asked.insert(7, "absent-1".into());
    asked.insert(31, "absent-2".into());
    let got: Vec<Option<u64>> = cache.get_many(&asked).await.unwrap();
    assert_eq!(got.len(), asked.len());
    for (key, value) in asked.iter().zip(&got) {
        let expected = key
            .strip_prefix('k')
            .map(|i| i.parse::<u64>().unwrap() * 10);
        assert_eq!(*value, expected, "{key}");
    }

    // Delete every other key, across all masters.
    let doomed: Vec<&String> = keys.iter().step_by(2).collect();
    assert_eq!(cache.delete_many(&doomed).await.unwrap(), 30);
    let after: Vec<Option<u64>> = cache.get_many(&keys).await.unwrap();
    for (i, value) in after.iter().enumerate() {
        assert_eq!(value.is_some(), i % 2 == 1, "k{i}");
    }
    assert!(cache.delete("k1").await.unwrap());
    assert_eq!(cache.get::<u64>("k1").await.unwrap(), None);
    assert_eq!(cache.get::<u64>("k3").await.unwrap(), Some(30));

    let s = cache.stats();
    assert_eq!(s.sets, 60);
    assert_eq!(s.hits, 60 + 30 + 1);
    assert_eq!(s.misses, 2 + 30 + 1);
    assert_eq!(s.deletes, 31);
    assert_eq!((s.errors, s.timeouts, s.decode_errors), (0, 0, 0));

    // Single-key commands and the server calls work on a cluster too.
    let minute = Some(std::time::Duration::from_secs(60));
    assert!(cache.set_nx("nx", &1u8, minute).await.unwrap());
    assert!(!cache.set_nx("nx", &2u8, None).await.unwrap());
    assert!(cache.set_xx("nx", &3u8, minute).await.unwrap());
    assert!(cache.exists("nx").await.unwrap());
    assert!(cache.ttl("nx").await.unwrap().is_some());
    assert!(
        cache
            .expire("nx", std::time::Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert_eq!(cache.get::<u8>("nx").await.unwrap(), Some(3));
    cache.health_check().await.unwrap();
    let server = cache.server_stats().await.unwrap();
    assert!(server.used_memory > 0, "{server:?}");
    cache.clear_namespace().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_namespace_reaches_every_master_and_spares_other_namespaces() {
    let ns = support::unique_namespace("cl-clear");
    let other_ns = format!("{ns}-other");
    let cache = cluster_cache(ns.clone()).await;
    let other = cluster_cache(other_ns.clone()).await;
    let mut nodes = Nodes::connect().await;

    let items: Vec<(String, u32)> = (0..600).map(|i| (format!("key{i}"), i)).collect();
    cache.set_many(&items, None).await.unwrap();
    other.set_many(&items[..300], None).await.unwrap();
    let before = nodes.count_per_master(&format!("{ns}:*")).await;
    assert!(before.values().all(|&n| n > 100), "{before:?}");

    assert_eq!(cache.clear_namespace().await.unwrap(), 600);
    let after = nodes.count_per_master(&format!("{ns}:*")).await;
    assert!(after.values().all(|&n| n == 0), "{after:?}");
    let kept = nodes.count_per_master(&format!("{other_ns}:*")).await;
    assert_eq!(kept.values().sum::<usize>(), 300);
    let keys: Vec<&String> = items[..300].iter().map(|(k, _)| k).collect();
    let values: Vec<Option<u32>> = other.get_many(&keys).await.unwrap();
    assert!(values.iter().all(Option::is_some));
    assert_eq!(cache.stats().deletes, 600);

    // clear_prefix on a cluster: only the matching keys, on every master.
    other.set("pre:a", &1u8, None).await.unwrap();
    other.set("pre:b", &2u8, None).await.unwrap();
    assert_eq!(other.clear_prefix("pre:").await.unwrap(), 2);
    assert_eq!(other.clear_namespace().await.unwrap(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_namespace_removes_keys_that_are_not_utf8() {
    let namespace = support::unique_namespace("cl-bytes");
    let cache = cluster_cache(namespace.clone()).await;
    cache.set("text", &1u32, None).await.unwrap();
    // Written by another client: a key of the namespace that is not UTF-8.
    let mut raw = redis::cluster::ClusterClient::new(perfect21_testkit::env::redis_cluster_urls())
        .unwrap()
        .get_async_connection()
        .await
        .unwrap();
    let mut key = cache.full_key("").into_bytes();
    key.extend_from_slice(b"\xff\xfe");
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("v")
        .query_async(&mut raw)
        .await
        .unwrap();
    let removed = cache.clear_namespace().await.unwrap();
    assert_eq!(removed, 2, "both keys, the non-UTF-8 one included");
    let left: u64 = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_on_a_cluster() {
    let cache = cluster_cache(support::unique_namespace("cl-sf")).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (cache, runs, gate) = (cache.clone(), runs.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_set("hot", None, move || async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    gate.notified().await;
                    Ok::<_, std::io::Error>("loaded".to_string())
                })
                .await
        }));
    }
    while cache.stats().singleflight_joins < 49 {
        tokio::task::yield_now().await;
    }
    gate.notify_one();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "loaded");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let s = cache.stats();
    assert_eq!(
        (s.loader_runs, s.singleflight_joins, s.sets, s.misses),
        (1, 49, 1, 1)
    );
    assert_eq!(
        cache.get::<String>("hot").await.unwrap().as_deref(),
        Some("loaded")
    );
    cache.clear_namespace().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_tagged_namespace_lives_in_one_slot() {
    let tag = support::unique_namespace("cl-tag");
    let cache = cluster_cache(format!("{{{tag}}}")).await;
    let mut nodes = Nodes::connect().await;
    let keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
    let mut slots = BTreeSet::new();
    for key in &keys {
        slots.insert(nodes.slot(&cache.full_key(key)).await);
    }
    assert_eq!(slots.len(), 1);
    let items: Vec<(&String, usize)> = keys.iter().map(|k| (k, k.len())).collect();
    cache.set_many(&items, None).await.unwrap();
    let got: Vec<Option<usize>> = cache.get_many(&keys).await.unwrap();
    assert_eq!(got, keys.iter().map(|k| Some(k.len())).collect::<Vec<_>>());
    // One MGET for the lot: one Read latency sample.
    let reads = cache
        .stats()
        .latency_of(perfect21_redis_cache::CommandFamily::Read)
        .unwrap()
        .count;
    assert_eq!(reads, 1);
    assert_eq!(cache.clear_namespace().await.unwrap(), 20);
}

#[tokio::test]
async fn cluster_options_are_validated_and_redacted() {
    support::assert_config_error(
        RedisCache::builder()
            .cluster_urls(Vec::<String>::new())
            .namespace("x")
            .build()
            .await,
        "cluster_urls",
    );
    support::assert_config_error(
        RedisCache::builder()
            .cluster_urls(["redis://127.0.0.1:1"])
            .url("redis://127.0.0.1:1")
            .namespace("x")
            .build()
            .await,
        "cluster_urls",
    );
    let builder = RedisCache::builder()
        .cluster_urls([
            "redis://:hunter2@127.0.0.1:1",
            "redis://u:s3cret@127.0.0.1:2",
        ])
        .namespace("x")
        .connect_timeout(std::time::Duration::from_millis(200));
    let debug = format!("{builder:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("s3cret"),
        "{debug}"
    );
    assert!(debug.contains("127.0.0.1:2"), "{debug}");
    let err = builder.build().await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("hunter2") && !text.contains("s3cret"),
        "{text}"
    );
}
