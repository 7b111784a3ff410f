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
use crate::codec::Codec;
use crate::error::{CacheError, Result};
use crate::stats::{CommandFamily, Counters};

type Loaded = std::result::Result<Arc<dyn Any + Send + Sync>, CacheError>;
type Load = BoxFuture<'static, Loaded>;

#[derive(Default)]
pub(crate) struct Flights {
    map: Mutex<HashMap<String, (u64, WeakShared<Load>)>>,
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
        if let Some(value) = self.from_l1(&full_key) {
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
            Counters::add(&self.inner.counters.singleflight_joins, 1);
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
                if let Some(value) = self.decode_found::<T>(&full_key, raw).await {
                    return Ok(Arc::new(value));
                }
            }
            Err(e) if !self.is_fail_open() => return Err(e),
            Err(_) => {}
        }
        Counters::add(&counters.loader_runs, 1);
        let value = match AssertUnwindSafe(async move { loader().await })
            .catch_unwind()
            .await
        {
            Ok(Ok(value)) => value,
            Ok(Err(e)) => {
                Counters::add(&counters.loader_errors, 1);
                return Err(CacheError::Loader(Arc::from(e.into())));
            }
            Err(_) => {
                Counters::add(&counters.loader_errors, 1);
                tracing::error!(target: "perfect21.redis_cache", key = full_key, "get_or_set loader panicked");
                return Err(CacheError::LoadAbandoned);
            }
        };
        match self.encode(&value) {
            Ok(bytes) => self.set_encoded(&key, &bytes, ttl).await?,
            Err(e) if !self.is_fail_open() => return Err(e),
            Err(e) => {
                tracing::warn!(target: "perfect21.redis_cache", key = full_key, error = %e, "loaded value not cached");
            }
        }
        Ok(Arc::new(value))
    }

    async fn run_get(&self, full_key: &str) -> Result<Option<Vec<u8>>> {
        self.run(CommandFamily::Read, redis::cmd("GET").arg(full_key))
            .await
    }
}
