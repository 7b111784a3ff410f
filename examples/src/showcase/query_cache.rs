//! The original's `QueryOptimizer`, done right: a query-result cache in
//! front of pg-stats, keyed by the statement and its parameters, bounded by
//! bytes, with a TTL — perfect21-lru's `ConcurrentLru`. (Its single-flight
//! loader is synchronous; a query is async, so concurrent misses of one key
//! each run the query here. The profile path has async single-flight in
//! Redis and the batcher.)

use std::time::Duration;

use anyhow::{Result, anyhow};
use bytes::Bytes;
use perfect21_lru::{CacheStats, ConcurrentLru, DefaultHashBuilder};

type Weigh = fn(&String, &Bytes) -> u64;

#[allow(clippy::ptr_arg)] // the weigher's signature is `Fn(&K, &V)` with K = String
fn weigh(key: &String, value: &Bytes) -> u64 {
    (key.len() + value.len()) as u64 + perfect21_lru::ENTRY_OVERHEAD
}

/// Encoded query results by `statement|parameters`.
#[derive(Debug)]
pub struct QueryCache {
    cache: ConcurrentLru<String, Bytes, DefaultHashBuilder, Weigh>,
}

impl QueryCache {
    /// At most `max_bytes` of keys and results, each kept for `ttl`.
    pub fn new(max_bytes: u64, ttl: Duration) -> Result<Self> {
        Ok(Self {
            cache: ConcurrentLru::builder()
                .max_weight(max_bytes)
                .weigher(weigh as Weigh)
                .time_to_live(ttl)
                .build()
                .map_err(|e| anyhow!("query cache: {e}"))?,
        })
    }

    /// The cached result of `statement` with `parameters`, or runs `query`
    /// and caches what it returns.
    pub async fn get_or_query<F, Fut>(
        &self,
        statement: &str,
        parameters: &str,
        query: F,
    ) -> Result<Bytes>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes>>,
    {
        let key = format!("{statement}|{parameters}");
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit);
        }
        let value = query().await?;
        let _ = self.cache.insert(key, value.clone());
        Ok(value)
    }

    /// Drops expired entries; returns how many.
    pub fn purge_expired(&self) -> usize {
        self.cache.purge_expired()
    }

    /// Hits, misses, evictions.
    pub fn stats(&self) -> CacheStats {
        self.cache.stats()
    }
}
