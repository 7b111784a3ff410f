//! `get_or_set`: cache-aside with single-flight loads.
//!
//! Concurrent callers for the same key in this process share one future:
//! the first creates it (GET, then on a miss the loader and a SET), the
//! others join it. The table holds only weak references, and the future
//! removes its own entry when it finishes or when every caller has been
//! dropped, so a cancelled load never blocks the key.

use std::any::Any;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, WeakShared};
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::RedisCache;
use crate::codec::{Codec, Times};
use crate::error::{CacheError, Result};
use crate::stats::{CommandFamily, Count, Counters};

type Loaded = std::result::Result<Arc<dyn Any + Send + Sync>, CacheError>;
type Load = BoxFuture<'static, Loaded>;

#[derive(Default)]
pub(crate) struct Flights {
    map: Mutex<HashMap<String, (u64, WeakShared<Load>)>>,
    refreshing: Mutex<std::collections::HashSet<String>>,
    next_id: AtomicU64,
}

impl Flights {
    pub(crate) fn len(&self) -> usize {
        self.map.lock().len()
    }
}

/// Removes the table entry of one load when that load ends or is dropped.
struct Leave<C: Codec> {
    cache: RedisCache<C>,
    full_key: String,
    id: u64,
}

impl<C: Codec> Drop for Leave<C> {
    fn drop(&mut self) {
        let mut map = self.cache.inner.flights.map.lock();
        if map.get(&self.full_key).map(|(id, _)| *id) == Some(self.id) {
            map.remove(&self.full_key);
        }
    }
}

/// Ends one background refresh's claim on its key.
struct Refreshing<C: Codec> {
    cache: RedisCache<C>,
    full_key: String,
}

impl<C: Codec> Drop for Refreshing<C> {
    fn drop(&mut self) {
        self.cache
            .inner
            .flights
            .refreshing
            .lock()
            .remove(&self.full_key);
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Runs a loader, catching a panic; counts the run and its failure.
async fn run_loader<T, F, Fut, E>(counters: &Counters, full_key: &str, loader: F) -> Result<T>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = std::result::Result<T, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    counters.add(Count::LoaderRuns, 1);
    match AssertUnwindSafe(async move { loader().await })
        .catch_unwind()
        .await
    {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => {
            counters.add(Count::LoaderErrors, 1);
            Err(CacheError::Loader(Arc::from(e.into())))
        }
        Err(_) => {
            counters.add(Count::LoaderErrors, 1);
            tracing::error!(target: "perfect21.redis_cache", key = full_key, "get_or_set loader panicked");
            Err(CacheError::LoadAbandoned)
        }
    }
}

impl<C: Codec> RedisCache<C> {
    /// Returns the value of `key`; on a miss runs `loader` once for all
    /// concurrent callers of this key in this process, stores its value
    /// for `ttl` (`None`: the default TTL) and hands it to every caller.
    ///
    /// A failing (or panicking) loader reaches every waiting caller as
    /// [`CacheError::Loader`] (or [`CacheError::LoadAbandoned`]) and
    /// nothing is cached. In fail-open mode a Redis error reads as a miss
    /// (the loader runs) and a failed store still returns the value.
    pub async fn get_or_set<T, F, Fut, E>(
        &self,
        key: &str,
        ttl: Option<Duration>,
        loader: F,
    ) -> Result<T>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<T, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let full_key = self.full_key(key);
        if let Some(value) = self.read_l1(&full_key) {
            return Ok(value);
        }
        let (load, joined) = {
            let flights = &self.inner.flights;
            let mut map = flights.map.lock();
            match map.get(&full_key).and_then(|(_, weak)| weak.upgrade()) {
                Some(load) => (load, true),
                None => {
                    let id = flights.next_id.fetch_add(1, Relaxed);
                    let leave = Leave {
                        cache: self.clone(),
                        full_key: full_key.clone(),
                        id,
                    };
                    let load = self
                        .clone()
                        .load(key.to_owned(), ttl, loader, leave)
                        .boxed()
                        .shared();
                    if let Some(weak) = load.downgrade() {
                        map.insert(full_key, (id, weak));
                    }
                    (load, false)
                }
            }
        };
        if joined {
            self.inner.counters.add(Count::SingleflightJoins, 1);
        }
        let value = load.await?;
        (*value).downcast_ref::<T>().cloned().ok_or_else(|| {
            CacheError::Decode("a concurrent get_or_set of this key asked for another type".into())
        })
    }

    async fn load<T, F, Fut, E>(
        self,
        key: String,
        ttl: Option<Duration>,
        loader: F,
        leave: Leave<C>,
    ) -> Loaded
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<T, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let _leave = leave;
        let full_key = self.full_key(&key);
        let counters = &self.inner.counters;
        let raw = self.run_get(&full_key).await;
        match raw {
            Ok(raw) => {
                if let Some((value, times)) = self.decode_found_fresh::<T>(&full_key, raw).await {
                    let now = now_ms();
                    let stale = times.fresh_until.is_some_and(|until| now >= until);
                    let early_due = !stale
                        && times.fresh_until.is_some_and(|until| {
                            self.inner.early.as_ref().is_some_and(|early| {
                                early.due(now, until, times.load_ms.unwrap_or(1))
                            })
                        });
                    if stale {
                        counters.add(Count::StaleServed, 1);
                        self.refresh_in_background(key, ttl, loader);
                    } else if early_due && self.refresh_in_background(key, ttl, loader) {
                        counters.add(Count::EarlyRefreshes, 1);
                    }
                    return Ok(Arc::new(value));
                }
            }
            Err(e) if !self.is_fail_open() => return Err(e),
            Err(_) => {}
        }
        let started = std::time::Instant::now();
        let value = run_loader(counters, &full_key, loader).await?;
        self.store_loaded(&key, &value, ttl, started.elapsed())
            .await?;
        Ok(Arc::new(value))
    }

    /// Stores a loaded value; with stale-while-revalidate, with its
    /// fresh-until time and a TTL extended by the grace.
    async fn store_loaded<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
        load_time: Duration,
    ) -> Result<()> {
        let grace = self.inner.stale_grace;
        let early = self.inner.early.is_some();
        let (times, redis_ttl) = match self.ttl_or_default(ttl) {
            Some(ttl) if grace.is_some() || early => (
                Times {
                    fresh_until: Some(
                        now_ms().saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)),
                    ),
                    load_ms: early
                        .then(|| u32::try_from(load_time.as_millis()).unwrap_or(u32::MAX)),
                },
                Some(ttl.saturating_add(grace.unwrap_or_default())),
            ),
            ttl => (Times::default(), ttl),
        };
        match self.encode_with(value, times) {
            Ok(bytes) => self.set_encoded(key, &bytes, redis_ttl).await,
            Err(e) if !self.is_fail_open() => Err(e),
            Err(e) => {
                tracing::warn!(target: "perfect21.redis_cache", key, error = %e, "loaded value not cached");
                Ok(())
            }
        }
    }

    /// Runs `loader` in a task of its own and stores its value, unless a
    /// refresh of this key is already running in this process; whether
    /// it started one.
    fn refresh_in_background<T, F, Fut, E>(
        &self,
        key: String,
        ttl: Option<Duration>,
        loader: F,
    ) -> bool
    where
        T: Serialize + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<T, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let full_key = self.full_key(&key);
        if !self
            .inner
            .flights
            .refreshing
            .lock()
            .insert(full_key.clone())
        {
            return false;
        }
        let done = Refreshing {
            cache: self.clone(),
            full_key,
        };
        tokio::spawn(async move {
            let this = done.cache.clone();
            let started = std::time::Instant::now();
            if let Ok(value) = run_loader(&this.inner.counters, &done.full_key, loader).await {
                let _ = this
                    .store_loaded(&key, &value, ttl, started.elapsed())
                    .await;
            }
            drop(done);
        });
        true
    }

    async fn run_get(&self, full_key: &str) -> Result<Option<Vec<u8>>> {
        self.run(CommandFamily::Read, redis::cmd("GET").arg(full_key))
            .await
    }
}
