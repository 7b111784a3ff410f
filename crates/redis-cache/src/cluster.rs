//! Redis Cluster (feature `cluster`): batches split by hash slot, clears
//! that scan every primary.
//!
//! A pipeline or multi-key command whose keys live in different slots
//! fails with `CROSSSLOT` (redis-rs #1348), so `get_many`, `set_many` and
//! `delete_many` group their keys by slot (CRC16 of the key, or of its
//! `{hash tag}`, modulo 16384 — `redis::cluster_routing::Slot::for_key`),
//! send one `MGET` / pipeline / `UNLINK` per slot, all slots at once, and
//! put the results back in the caller's order. `SCAN` sees one node's
//! keys only, so the `clear_*` calls ask the cluster for its primaries
//! (`CLUSTER SLOTS`) and walk each one's keyspace in turn.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::join_all;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo, Slot};
use redis::{Cmd, Value};
use serde::de::DeserializeOwned;

use crate::cache::RedisCache;
use crate::codec::Codec;
use crate::error::{CacheError, Result};
use crate::stats::{CommandFamily, Count};

/// Indices of `keys` grouped by the slot of `namespace:key`, groups in
/// order of first appearance.
fn by_slot<B: AsRef<[u8]>>(keys: impl Iterator<Item = B>) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut slot_group: HashMap<Slot, usize> = HashMap::new();
    for (i, full) in keys.enumerate() {
        let g = *slot_group
            .entry(Slot::for_key(full.as_ref()))
            .or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
        groups[g].push(i);
    }
    groups
}

impl<C: Codec> RedisCache<C> {
    fn slot_groups<K: AsRef<str>>(&self, keys: &[K]) -> Vec<Vec<usize>> {
        by_slot(keys.iter().map(|k| self.full_key(k.as_ref())))
    }

    /// `get_many` on a cluster: one `MGET` per slot, concurrently.
    pub(crate) async fn cluster_get_many<T: DeserializeOwned, K: AsRef<str>>(
        &self,
        keys: &[K],
    ) -> Result<Vec<Option<T>>> {
        let groups = self.slot_groups(keys);
        let replies = join_all(groups.iter().map(|group| async move {
            let group_keys: Vec<&str> = group.iter().map(|&i| keys[i].as_ref()).collect();
            self.mget_into::<T, _>(&group_keys).await
        }))
        .await;
        let mut out: Vec<Option<T>> = keys.iter().map(|_| None).collect();
        for (group, reply) in groups.iter().zip(replies) {
            for (&i, value) in group.iter().zip(reply?) {
                out[i] = value;
            }
        }
        Ok(out)
    }

    /// `set_many` on a cluster: one pipeline of `SET … PX` per slot,
    /// concurrently (values encoded, and checked, by the caller).
    pub(crate) async fn cluster_set_many(
        &self,
        items: &[(&str, Vec<u8>)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let groups = by_slot(items.iter().map(|(k, _)| self.full_key(k)));
        let results = join_all(groups.iter().map(|group| {
            let mut pipe = redis::pipe();
            let mut bytes = 0u64;
            for &i in group {
                bytes += items[i].1.len() as u64;
                pipe.add_command(self.set_cmd(self.ns_key(items[i].0), &items[i].1, ttl))
                    .ignore();
            }
            async move {
                let r = self.run_pipeline::<()>(CommandFamily::Write, &pipe).await;
                if r.is_ok() {
                    let counters = &self.inner.counters;
                    counters.add(Count::Sets, group.len() as u64);
                    counters.add(Count::BytesWritten, bytes);
                }
                r
            }
        }))
        .await;
        let first_error = results.into_iter().find_map(|r| r.err());
        self.soften(first_error.map_or(Ok(()), Err), || ())
    }

    /// `UNLINK` on a cluster: one per slot, concurrently; how many existed.
    /// Keys are bytes: a `SCAN` finds keys of any bytes, UTF-8 or not.
    pub(crate) async fn cluster_unlink<K: AsRef<[u8]> + Sync>(
        &self,
        full_keys: &[K],
    ) -> Result<u64> {
        let groups = by_slot(full_keys.iter().map(AsRef::as_ref));
        let results = join_all(groups.iter().map(|group| async move {
            let mut cmd = redis::cmd("UNLINK");
            for &i in group {
                cmd.arg(full_keys[i].as_ref());
            }
            let removed: u64 = self.run(CommandFamily::Delete, &cmd).await?;
            self.inner.counters.add(Count::Deletes, removed);
            Ok::<u64, CacheError>(removed)
        }))
        .await;
        let mut removed = 0;
        for r in results {
            removed += r?;
        }
        Ok(removed)
    }

    /// `clear_*` on a cluster: `SCAN MATCH` on every primary in turn,
    /// the keys found removed with per-slot `UNLINK`s.
    pub(crate) async fn cluster_clear_glob(&self, glob: &str) -> Result<u64> {
        let Some(connection) = self.inner.backend.cluster() else {
            return Ok(0);
        };
        let mut removed = 0u64;
        let primaries = match self.primaries().await {
            Ok(primaries) => primaries,
            Err(e) => return self.soften(Err(e), || 0),
        };
        for (host, port) in primaries {
            let mut cursor: u64 = 0;
            loop {
                let cmd = self.scan_cmd(cursor, glob);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                    host: host.clone(),
                    port,
                });
                let mut connection = connection.clone();
                let step = self
                    .timed(CommandFamily::Scan, async move {
                        let value = connection.route_command(cmd, routing).await?;
                        Ok(redis::from_redis_value::<(u64, Vec<Vec<u8>>)>(value)?)
                    })
                    .await;
                let (next, keys) = match step {
                    Ok(step) => step,
                    Err(e) => return self.soften(Err(e), || removed),
                };
                for chunk in keys.chunks(self.inner.scan_count) {
                    match self.cluster_unlink(chunk).await {
                        Ok(n) => removed += n,
                        Err(e) => return self.soften(Err(e), || removed),
                    }
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(removed)
    }

    /// The cluster's primaries, `(host, port)`, from `CLUSTER SLOTS`.
    async fn primaries(&self) -> Result<Vec<(String, u16)>> {
        let slots: Value = self
            .run(
                CommandFamily::Other,
                &Cmd::new().arg("CLUSTER").arg("SLOTS").to_owned(),
            )
            .await?;
        let mut primaries: Vec<(String, u16)> = Vec::new();
        let ranges: Vec<Value> = redis::from_redis_value(slots)
            .map_err(|e| CacheError::Redis(format!("CLUSTER SLOTS: {e}")))?;
        for range in ranges {
            // [start, end, [host, port, id, …], replicas…]
            let parts: Vec<Value> = redis::from_redis_value(range)
                .map_err(|e| CacheError::Redis(format!("CLUSTER SLOTS: {e}")))?;
            let Some(primary) = parts.into_iter().nth(2) else {
                continue;
            };
            let node: Vec<Value> = redis::from_redis_value(primary)
                .map_err(|e| CacheError::Redis(format!("CLUSTER SLOTS: {e}")))?;
            let mut node = node.into_iter();
            let (Some(host), Some(port)) = (node.next(), node.next()) else {
                continue;
            };
            let host: String = redis::from_redis_value(host)
                .map_err(|e| CacheError::Redis(format!("CLUSTER SLOTS: {e}")))?;
            let port: u16 = redis::from_redis_value(port)
                .map_err(|e| CacheError::Redis(format!("CLUSTER SLOTS: {e}")))?;
            if !primaries.contains(&(host.clone(), port)) {
                primaries.push((host, port));
            }
        }
        Ok(primaries)
    }
}
