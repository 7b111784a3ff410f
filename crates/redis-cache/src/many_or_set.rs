//! `get_many_or_set`: cache-aside in bulk — one `MGET`, one loader call
//! for the keys Redis lacks, one pipelined `SET`, and single-flight per
//! key shared with `get_or_set`.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::join_all;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::RedisCache;
use crate::codec::Codec;
use crate::error::{CacheError, Result};
use crate::get_or_set::{Absent, Flight, Loaded, run_loader, value_of};
use crate::stats::Count;

/// The values one batch found or loaded, by caller's key.
type Batch = Arc<HashMap<String, Arc<dyn Any + Send + Sync>>>;

impl<C: Codec> RedisCache<C> {
    /// Returns the values of `keys`, in their order; the keys that neither
    /// L1 nor Redis has are loaded with **one** call of `loader` (given
    /// just those keys, each once), stored with one pipelined `SET … PX`
    /// for `ttl` (`None`: the default TTL), and returned.
    ///
    /// A key another caller is loading right now (`get_or_set` or
    /// `get_many_or_set`, in this process) is awaited, not loaded again.
    /// `loader` returns `(key, value)` pairs; a key it leaves out reads as
    /// `None` and nothing is stored for it (pairs for keys not asked for
    /// are ignored; a key answered twice keeps the last value). Each
    /// distinct key this call reads counts once as a hit or a miss, a key
    /// it joined counts as a single-flight join, one loader run per call
    /// that needed one, one set per value stored.
    ///
    /// A loaded value that cannot be stored (too large, a failing
    /// `Serialize`) is still returned; the others are stored; in strict
    /// mode the call then fails with that error.
    ///
    /// A failing (or panicking) loader fails the call of every caller
    /// waiting on its keys, and nothing is cached. In fail-open mode a
    /// Redis error reads as all-miss (the loader runs for every key) and a
    /// failed store still returns the values. Stale-while-revalidate and
    /// early refresh are `get_or_set`'s: here a value in its grace period
    /// is a hit, as in `get_many`.
    ///
    /// ```no_run
    /// # async fn demo(cache: perfect21_redis_cache::RedisCache) -> perfect21_redis_cache::Result<()> {
    /// let names: Vec<Option<String>> = cache
    ///     .get_many_or_set(&["1", "2", "3"], None, |missing: Vec<String>| async move {
    ///         // e.g. SELECT id, name FROM users WHERE id = ANY($1)
    ///         Ok::<_, std::io::Error>(missing.into_iter().map(|id| {
    ///             let name = format!("user {id}");
    ///             (id, name)
    ///         }))
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_many_or_set<T, K, F, Fut, I, E>(
        &self,
        keys: &[K],
        ttl: Option<Duration>,
        loader: F,
    ) -> Result<Vec<Option<T>>>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        K: AsRef<str>,
        F: FnOnce(Vec<String>) -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<I, E>> + Send + 'static,
        I: IntoIterator<Item = (String, T)> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let mut out: Vec<Option<T>> = Vec::with_capacity(keys.len());
        let mut pending: Vec<(usize, String)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let full = self.full_key(key.as_ref());
            out.push(self.read_l1(&full));
            if out[i].is_none() {
                pending.push((i, full));
            }
        }
        if pending.is_empty() {
            return Ok(out);
        }
        // Under one lock: join each key's load in flight, or claim the key
        // for this call's batch (a key asked for twice is one flight).
        let mut flight_of: HashMap<&str, Flight> = HashMap::new();
        {
            let mut table = self.inner.flights.table();
            let mut claimed: Vec<(&str, String)> = Vec::new();
            let mut seen: HashSet<&str> = HashSet::with_capacity(pending.len());
            let mut joins = 0;
            for (i, full) in &pending {
                if !seen.insert(full.as_str()) {
                    continue;
                }
                match table.in_flight(full) {
                    Some(flight) => {
                        joins += 1;
                        flight_of.insert(full, flight);
                    }
                    None => claimed.push((full, keys[*i].as_ref().to_owned())),
                }
            }
            if !claimed.is_empty() {
                let wanted = claimed.iter().map(|(_, key)| key.clone()).collect();
                let batch = self
                    .clone()
                    .load_batch(wanted, ttl, loader)
                    .boxed()
                    .shared();
                for (full, key) in claimed {
                    let batch = batch.clone();
                    let flight = table.start(self, full.to_owned(), move |leave| {
                        batch
                            .map(move |found| {
                                let _leave = leave;
                                found.and_then(|batch| share(&batch, &key))
                            })
                            .boxed()
                    });
                    flight_of.insert(full, flight);
                }
            }
            drop(table);
            self.inner.counters.add(Count::SingleflightJoins, joins);
        }
        let flights = pending
            .iter()
            .map(|(_, full)| flight_of[full.as_str()].clone());
        let loaded = join_all(flights).await;
        for ((i, _), loaded) in pending.iter().zip(loaded) {
            out[*i] = value_of::<T>(&loaded?)?;
        }
        Ok(out)
    }

    /// The shared part of one `get_many_or_set` call: what Redis has of
    /// `keys`, then the loader for the rest and their store.
    async fn load_batch<T, F, Fut, I, E>(
        self,
        keys: Vec<String>,
        ttl: Option<Duration>,
        loader: F,
    ) -> std::result::Result<Batch, CacheError>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
        F: FnOnce(Vec<String>) -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<I, E>> + Send + 'static,
        I: IntoIterator<Item = (String, T)> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let found: Vec<Option<T>> = self.get_many(&keys).await?;
        let mut batch: HashMap<String, Arc<dyn Any + Send + Sync>> = HashMap::new();
        let mut missing = Vec::new();
        for (key, value) in keys.into_iter().zip(found) {
            match value {
                Some(value) => {
                    batch.insert(key, Arc::new(value));
                }
                None => missing.push(key),
            }
        }
        if missing.is_empty() {
            return Ok(Arc::new(batch));
        }
        let label = missing.first().cloned().unwrap_or_default();
        let wanted: HashSet<String> = missing.iter().cloned().collect();
        let answered = run_loader(&self.inner.counters, &label, move || loader(missing)).await?;
        // One value per key asked for (a key answered twice: the last).
        let mut loaded: HashMap<String, T> = HashMap::new();
        for (key, value) in answered {
            if wanted.contains(&key) {
                loaded.insert(key, value);
            }
        }
        // Each value encoded once; one that cannot be (too large, a failing
        // `Serialize`) is returned but not stored, and the rest still are.
        let mut encoded: Vec<(&str, Vec<u8>)> = Vec::with_capacity(loaded.len());
        let mut refused = None;
        for (key, value) in &loaded {
            match self.encode(value) {
                Ok(bytes) => encoded.push((key, bytes)),
                Err(e) => {
                    tracing::warn!(target: "perfect21.redis_cache", key = %key, error = %e, "loaded value not cached");
                    refused.get_or_insert(e);
                }
            }
        }
        let stored = self.set_many_encoded(&encoded, ttl).await;
        match refused.map_or(stored, Err) {
            Err(e) if !self.is_fail_open() => return Err(e),
            Err(e) => {
                tracing::warn!(target: "perfect21.redis_cache", error = %e, "loaded values not all cached");
            }
            Ok(()) => {}
        }
        drop(encoded);
        for (key, value) in loaded {
            batch.insert(key, Arc::new(value));
        }
        Ok(Arc::new(batch))
    }
}

/// One key's share of its batch: [`Absent`] when the loader left it out.
fn share(batch: &Batch, key: &str) -> Loaded {
    Ok(batch
        .get(key)
        .cloned()
        .unwrap_or_else(|| Arc::new(Absent) as _))
}
