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
use futures_util::future::{BoxFuture, Shared, WeakShared};
use parking_lot::{Mutex, MutexGuard};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::RedisCache;
use crate::codec::Codec;
use crate::error::{CacheError, Result};
use crate::fetch::Lifetime;
use crate::refresh::now_ms;
use crate::stats::{Count, Counters};

/// What a load hands its callers: the value (a `T`, or [`Absent`]) or the
/// error every caller receives.
pub(crate) type Loaded = std::result::Result<Arc<dyn Any + Send + Sync>, CacheError>;
type Load = BoxFuture<'static, Loaded>;
/// One key's load, shared by every caller of that key.
pub(crate) type Flight = Shared<Load>;

/// The value of a key that a batch loader (`get_many_or_set`) did not
/// return.
pub(crate) struct Absent;

#[derive(Default)]
pub(crate) struct Flights {
    map: Mutex<HashMap<String, (u64, WeakShared<Load>)>>,
    pub(crate) refreshing: Mutex<std::collections::HashSet<String>>,
    next_id: AtomicU64,
}

impl Flights {
    pub(crate) fn len(&self) -> usize {
        self.map.lock().len()
    }

    /// The table, locked for a run of joins and starts (a batch takes its
    /// keys under one lock, so two batches never split a key's load).
    pub(crate) fn table(&self) -> Table<'_> {
        Table {
            next_id: &self.next_id,
            map: self.map.lock(),
        }
    }
}

/// The locked flight table.
pub(crate) struct Table<'a> {
    next_id: &'a AtomicU64,
    map: MutexGuard<'a, HashMap<String, (u64, WeakShared<Load>)>>,
}

impl Table<'_> {
    /// The load of `full_key` in flight, if some caller still drives it.
    pub(crate) fn in_flight(&self, full_key: &str) -> Option<Flight> {
        self.map.get(full_key).and_then(|(_, weak)| weak.upgrade())
    }

    /// Starts the load of `full_key` made by `start` (given the guard that
    /// removes its entry when it ends or is dropped) and registers it.
    pub(crate) fn start<C: Codec>(
        &mut self,
        cache: &RedisCache<C>,
        full_key: String,
        start: impl FnOnce(Leave<C>) -> Load,
    ) -> Flight {
        let id = self.next_id.fetch_add(1, Relaxed);
        let leave = Leave {
            cache: cache.clone(),
            full_key: full_key.clone(),
            id,
        };
        let flight = start(leave).shared();
        if let Some(weak) = flight.downgrade() {
            self.map.insert(full_key, (id, weak));
        }
        flight
    }
}

/// What one caller of a key gets from its load: `None` for [`Absent`].
pub(crate) fn value_of<T: Clone + 'static>(
    loaded: &Arc<dyn Any + Send + Sync>,
) -> Result<Option<T>> {
    if let Some(value) = loaded.downcast_ref::<T>() {
        return Ok(Some(value.clone()));
    }
    if loaded.is::<Absent>() {
        return Ok(None);
    }
    Err(CacheError::Decode(
        "a concurrent load of this key asked for another type".into(),
    ))
}

/// Removes the table entry of one load when that load ends or is dropped.
pub(crate) struct Leave<C: Codec> {
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

/// Runs a loader, catching a panic; counts the run and its failure.
pub(crate) async fn run_loader<T, F, Fut, E>(
    counters: &Counters,
    full_key: &str,
    loader: F,
) -> Result<T>
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
            let mut table = self.inner.flights.table();
            match table.in_flight(&full_key) {
                Some(load) => (load, true),
                None => {
                    let this = self.clone();
                    let key = key.to_owned();
                    let load = table.start(self, full_key, move |leave| {
                        this.load(key, ttl, loader, leave).boxed()
                    });
                    (load, false)
                }
            }
        };
        if joined {
            self.inner.counters.add(Count::SingleflightJoins, 1);
        }
        let value = load.await?;
        value_of::<T>(&value)?.ok_or_else(|| {
            CacheError::Loader(Arc::from(Box::<dyn std::error::Error + Send + Sync>::from(
                "the loader of a concurrent get_many_or_set returned no value for this key",
            )))
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
        let fence = self.l1_fence(&full_key);
        let fetched = self
            .fetch_for_l1(&[&full_key], fence.is_some())
            .await
            .map(|mut one| one.pop().unwrap_or((None, Lifetime::Gone)));
        match fetched {
            Ok(found) => {
                if let Some((value, times)) =
                    self.decode_found_fresh::<T>(&full_key, found, fence).await
                {
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
}
