//! Background refreshes of `get_or_set`: stale-while-revalidate (a stale
//! value is served while one refresh runs) and probabilistic early refresh
//! (XFetch, `early.rs`), and how a loaded value is stored with its
//! fresh-until time.

use std::time::Duration;

use serde::Serialize;

use crate::cache::RedisCache;
use crate::codec::{Codec, Times};
use crate::error::Result;
use crate::get_or_set::run_loader;

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

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl<C: Codec> RedisCache<C> {
    /// Stores a loaded value; with stale-while-revalidate, with its
    /// fresh-until time and a TTL extended by the grace.
    pub(crate) async fn store_loaded<T: Serialize>(
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
    pub(crate) fn refresh_in_background<T, F, Fut, E>(
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
}
