//! Shared setup of the redis_cache bench and its ceiling program: a
//! `RedisCache` and a raw `ConnectionManager` on the same server, keys
//! seeded with the same small value.

use perfect21_redis_cache::RedisCache;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

/// The cached value: a small record, ~60 bytes of JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Score.
    pub score: f64,
}

/// Number of seeded keys (`k0` … `k{KEYS-1}`).
pub const KEYS: usize = 1000;

/// The namespace the bench writes under.
pub const NAMESPACE: &str = "bench-redis-cache";

/// A cache and a raw connection of the same type (auto-reconnecting
/// `ConnectionManager`, each with its response timeout) on `url`, with
/// [`KEYS`] keys seeded.
pub async fn setup(url: &str) -> (RedisCache, ConnectionManager) {
    let client = redis::Client::open(url).expect("REDIS_URL");
    let raw = ConnectionManager::new(client.clone())
        .await
        .expect("connect");
    let cache = RedisCache::builder()
        .url(url)
        .namespace(NAMESPACE)
        .build()
        .await
        .expect("build cache");
    let items: Vec<(String, Record)> = (0..KEYS as u64)
        .map(|id| {
            (
                format!("k{id}"),
                Record {
                    id,
                    name: format!("name-{id}"),
                    score: id as f64 * 0.5,
                },
            )
        })
        .collect();
    cache.set_many(&items, None).await.expect("seed");
    (cache, raw)
}

/// A second cache on the same keys with
/// [`bounded_reads`](perfect21_redis_cache::RedisCacheBuilder::bounded_reads):
/// `GETRANGE` in place of `GET`, a pipeline of them in place of `MGET`.
pub async fn bounded_cache(url: &str) -> RedisCache {
    RedisCache::builder()
        .url(url)
        .namespace(NAMESPACE)
        .bounded_reads(true)
        .build()
        .await
        .expect("build bounded cache")
}

/// The Redis key of `k{i}`, as the raw side must spell it.
pub fn full_key(i: usize) -> String {
    format!("{NAMESPACE}:k{}", i % KEYS)
}

/// The raw peer's read of `k{i}`: `GET` and `serde_json`, past the header
/// byte of the values `RedisCache` seeded.
pub async fn raw_get(mut raw: ConnectionManager, i: usize) -> Record {
    let v: Option<Vec<u8>> = redis::cmd("GET")
        .arg(full_key(i))
        .query_async(&mut raw)
        .await
        .expect("GET");
    serde_json::from_slice::<Record>(&v.expect("seeded")[1..]).expect("json")
}

/// The raw peer's write of `w{i}`: `SET` of the record's `serde_json`
/// bytes under the namespaced key (no header byte: a hand-written
/// cache-aside has none).
pub async fn raw_set(mut raw: ConnectionManager, i: usize, value: &Record) {
    let _: () = redis::cmd("SET")
        .arg(format!("{NAMESPACE}:w{i}"))
        .arg(serde_json::to_vec(value).expect("json"))
        .query_async(&mut raw)
        .await
        .expect("SET");
}

/// The keys of batch `t`: 100 consecutive seeded keys from `t * 7`.
pub fn batch_keys(t: usize) -> Vec<String> {
    (0..100)
        .map(|i| format!("k{}", (t * 7 + i) % KEYS))
        .collect()
}

/// The raw peer's `get_many(100)` of batch `t`: one `MGET` and
/// `serde_json` on every value, past the header byte.
pub async fn raw_get_many(mut raw: ConnectionManager, t: usize) -> Vec<Option<Record>> {
    let keys: Vec<String> = (0..100).map(|i| full_key(t * 7 + i)).collect();
    let v: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
        .arg(&keys)
        .query_async(&mut raw)
        .await
        .expect("MGET");
    v.into_iter()
        .map(|b| b.map(|b| serde_json::from_slice::<Record>(&b[1..]).expect("json")))
        .collect()
}
