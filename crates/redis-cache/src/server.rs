//! The server side: `health_check` (`PING`) and `server_stats` (`INFO`,
//! parsed here).

use std::time::{Duration, Instant};

use crate::cache::RedisCache;
use crate::codec::Codec;
use crate::error::{CacheError, Result};
use crate::stats::CommandFamily;

impl<C: Codec> RedisCache<C> {
    /// `PING` under the command timeout; the round trip. Always strict:
    /// errors are returned whatever the fail-open setting.
    pub async fn health_check(&self) -> Result<Duration> {
        let started = Instant::now();
        let _: String = self.run(CommandFamily::Other, &redis::cmd("PING")).await?;
        Ok(started.elapsed())
    }

    /// `INFO stats memory clients keyspace`, parsed (always strict); on a
    /// cluster, the sum over its primaries.
    pub async fn server_stats(&self) -> Result<ServerStats> {
        let cmd = redis::cmd("INFO")
            .arg("stats")
            .arg("memory")
            .arg("clients")
            .arg("keyspace")
            .to_owned();
        // A cluster answers with one text per primary: their sum.
        let reply: redis::Value = self.run(CommandFamily::Other, &cmd).await?;
        let texts: Vec<redis::Value> = match reply {
            redis::Value::Map(pairs) => pairs.into_iter().map(|(_, text)| text).collect(),
            one => vec![one],
        };
        let mut stats = ServerStats::default();
        for text in texts {
            let text: String = redis::from_redis_value(text)
                .map_err(|e| CacheError::Redis(format!("INFO: {e}")))?;
            stats.add(ServerStats::parse(&text));
        }
        Ok(stats)
    }
}

/// The server's own view, from `INFO stats memory clients keyspace`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ServerStats {
    /// Successful key lookups since the server started (all clients).
    pub keyspace_hits: u64,
    /// Failed key lookups since the server started (all clients).
    pub keyspace_misses: u64,
    /// Keys evicted by the `maxmemory` policy.
    pub evicted_keys: u64,
    /// Keys removed by expiry.
    pub expired_keys: u64,
    /// Bytes allocated by Redis.
    pub used_memory: u64,
    /// Connected clients.
    pub connected_clients: u64,
    /// The eviction policy, e.g. `noeviction`, `allkeys-lru`.
    pub maxmemory_policy: String,
    /// Keys in all databases (`INFO keyspace`).
    pub keys: u64,
}

impl ServerStats {
    /// `keyspace_hits / (keyspace_hits + keyspace_misses)`; `0.0` when
    /// there were no lookups.
    pub fn hit_ratio(&self) -> f64 {
        let total = self.keyspace_hits + self.keyspace_misses;
        if total == 0 {
            0.0
        } else {
            self.keyspace_hits as f64 / total as f64
        }
    }

    /// Adds another node's figures (a cluster's total); the first
    /// non-empty `maxmemory_policy` is kept.
    pub(crate) fn add(&mut self, other: Self) {
        self.keyspace_hits += other.keyspace_hits;
        self.keyspace_misses += other.keyspace_misses;
        self.evicted_keys += other.evicted_keys;
        self.expired_keys += other.expired_keys;
        self.used_memory += other.used_memory;
        self.connected_clients += other.connected_clients;
        self.keys += other.keys;
        if self.maxmemory_policy.is_empty() {
            self.maxmemory_policy = other.maxmemory_policy;
        }
    }

    pub(crate) fn parse(info: &str) -> Self {
        let mut stats = Self::default();
        for line in info.lines() {
            let Some((name, value)) = line.trim().split_once(':') else {
                continue;
            };
            let number = || value.parse::<u64>().unwrap_or(0);
            match name {
                "keyspace_hits" => stats.keyspace_hits = number(),
                "keyspace_misses" => stats.keyspace_misses = number(),
                "evicted_keys" => stats.evicted_keys = number(),
                "expired_keys" => stats.expired_keys = number(),
                "used_memory" => stats.used_memory = number(),
                "connected_clients" => stats.connected_clients = number(),
                "maxmemory_policy" => stats.maxmemory_policy = value.to_owned(),
                db if db.starts_with("db") => {
                    // db0:keys=3,expires=0,avg_ttl=0
                    let keys = value
                        .split(',')
                        .find_map(|kv| kv.strip_prefix("keys="))
                        .and_then(|n| n.parse::<u64>().ok())
                        .unwrap_or(0);
                    stats.keys += keys;
                }
                _ => {}
            }
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_info() {
        let info = "# Stats\r\nkeyspace_hits:5\r\nkeyspace_misses:7\r\nevicted_keys:1\r\nexpired_keys:2\r\n# Memory\r\nused_memory:1024\r\nmaxmemory_policy:allkeys-lru\r\n# Clients\r\nconnected_clients:3\r\n# Keyspace\r\ndb0:keys=10,expires=1,avg_ttl=0\r\ndb1:keys=2,expires=0,avg_ttl=0\r\n";
        let s = ServerStats::parse(info);
        assert_eq!(
            s,
            ServerStats {
                keyspace_hits: 5,
                keyspace_misses: 7,
                evicted_keys: 1,
                expired_keys: 2,
                used_memory: 1024,
                connected_clients: 3,
                maxmemory_policy: "allkeys-lru".into(),
                keys: 12,
            }
        );
        assert!((s.hit_ratio() - 5.0 / 12.0).abs() < 1e-12);
    }
}
