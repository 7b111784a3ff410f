//! `RedisCache`: the type, its shared state, and the plumbing every
//! operation goes through (timed commands, fail-open, encoding). The
//! operations live beside it: `reads.rs`, `writes.rs`, `clear.rs`,
//! `server.rs`, `get_or_set.rs`, `many_or_set.rs`; L1 access in `l1.rs`;
//! reply decoding in `decode.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::{Cmd, FromRedisValue, Pipeline};
use serde::Serialize;

use crate::backend::{Backend, NsKey};
use crate::builder::RedisCacheBuilder;
use crate::codec::{Codec, Framing, Json, Times};
use crate::error::{CacheError, Result};
use crate::get_or_set::Flights;
use crate::redact::Redactor;
use crate::stats::{CacheStats, CommandFamily, Count, Counters};

/// A cache-aside client over Redis: typed values through a [`Codec`],
/// every key under one namespace, exact [`CacheStats`].
///
/// Cheap to clone (one `Arc`); clones share the connection, the counters
/// and the single-flight table. By default all commands go over one
/// multiplexed, auto-reconnecting `redis::aio::ConnectionManager`: a
/// cancelled call's reply is matched to that call and discarded, never
/// handed to the next caller. Features `cluster`, `deadpool` and `bb8`
/// put a Redis Cluster or a connection pool underneath instead.
pub struct RedisCache<C: Codec = Json> {
    pub(crate) inner: Arc<Inner<C>>,
}

impl<C: Codec> Clone for RedisCache<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<C: Codec> std::fmt::Debug for RedisCache<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("url", &self.inner.redactor)
            .field("namespace", &self.inner.namespace)
            .field("default_ttl", &self.inner.default_ttl)
            .field("fail_open", &self.inner.fail_open)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner<C> {
    pub(crate) backend: Backend,
    pub(crate) redactor: Redactor,
    pub(crate) namespace: String,
    pub(crate) default_ttl: Option<Duration>,
    pub(crate) codec: C,
    pub(crate) framing: Framing,
    pub(crate) command_timeout: Duration,
    pub(crate) fail_open: bool,
    pub(crate) delete_corrupt: bool,
    pub(crate) scan_count: usize,
    pub(crate) counters: Counters,
    pub(crate) flights: Flights,
    /// Probabilistic early refresh of `get_or_set`, if enabled.
    pub(crate) early: Option<crate::early::EarlyRefresh>,
    /// Stale-while-revalidate grace of `get_or_set`, if enabled.
    pub(crate) stale_grace: Option<Duration>,
    /// Whether `timed` must bound commands itself (a caller's connection).
    pub(crate) wrap_timeout: bool,
    #[cfg(feature = "local")]
    pub(crate) local: Option<crate::local::Local>,
}

impl<C> Inner<C> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        backend: Backend,
        redactor: Redactor,
        namespace: String,
        default_ttl: Option<Duration>,
        codec: C,
        framing: Framing,
        command_timeout: Duration,
        fail_open: bool,
        delete_corrupt: bool,
        scan_count: usize,
    ) -> Self {
        Self {
            backend,
            redactor,
            namespace,
            default_ttl,
            codec,
            framing,
            command_timeout,
            fail_open,
            delete_corrupt,
            scan_count,
            counters: Counters::new(),
            flights: Flights::default(),
            stale_grace: None,
            early: None,
            wrap_timeout: true,
            #[cfg(feature = "local")]
            local: None,
        }
    }
}

impl RedisCache<Json> {
    /// A builder with the defaults listed on [`RedisCacheBuilder`].
    pub fn builder() -> RedisCacheBuilder<Json> {
        RedisCacheBuilder::new()
    }
}

impl<C: Codec> RedisCache<C> {
    pub(crate) fn from_inner(inner: Inner<C>) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// A snapshot of the counters and latency histograms.
    pub fn stats(&self) -> CacheStats {
        #[allow(unused_mut)]
        let mut stats = self.inner.counters.snapshot();
        #[cfg(feature = "local")]
        if let Some(local) = &self.inner.local {
            let counts = local.counts();
            stats.local_invalidations = counts.invalidations;
            stats.local_fills_discarded = counts.fills_discarded;
            stats.local_resyncs = counts.resyncs;
        }
        stats
    }

    /// The namespace every key is stored under.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// The Redis key of `key`: `namespace:key`.
    pub fn full_key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.inner.namespace.len() + 1 + key.len());
        full.push_str(&self.inner.namespace);
        full.push(':');
        full.push_str(key);
        full
    }

    /// `namespace:key` as a command argument, without a `String`.
    pub(crate) fn ns_key<'a>(&'a self, key: &'a str) -> NsKey<'a> {
        NsKey {
            namespace: &self.inner.namespace,
            key,
        }
    }

    /// Runs one command under the command timeout, recording its latency
    /// and counting a failure as an error or a timeout.
    pub(crate) async fn run<T: FromRedisValue>(
        &self,
        family: CommandFamily,
        cmd: &Cmd,
    ) -> Result<T> {
        self.timed(family, self.inner.backend.query::<T>(cmd)).await
    }

    /// [`run`](Self::run) for a pipeline.
    pub(crate) async fn run_pipeline<T: FromRedisValue>(
        &self,
        family: CommandFamily,
        pipe: &Pipeline,
    ) -> Result<T> {
        self.timed(family, self.inner.backend.query_pipeline::<T>(pipe))
            .await
    }

    pub(crate) async fn timed<T>(
        &self,
        family: CommandFamily,
        query: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T> {
        let started = Instant::now();
        // A connection built from the URL enforces the command timeout
        // itself (its response timeout); a caller's connection gets ours
        // around it.
        let outcome = if self.inner.wrap_timeout {
            tokio::time::timeout(self.inner.command_timeout, query).await
        } else {
            Ok(query.await)
        };
        let counters = &self.inner.counters;
        counters.record(family, started.elapsed());
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) if e.is_timeout() => {
                counters.add(Count::Timeouts, 1);
                tracing::warn!(target: "perfect21.redis_cache", ?family, "redis command timed out");
                Err(CacheError::Timeout(self.inner.command_timeout))
            }
            Ok(Err(e)) => Err(self.failed(family, &e.to_string())),
            Err(_) => {
                counters.add(Count::Timeouts, 1);
                tracing::warn!(target: "perfect21.redis_cache", ?family, "redis command timed out");
                Err(CacheError::Timeout(self.inner.command_timeout))
            }
        }
    }

    /// A command that failed, or answered what it cannot answer: counted
    /// in `errors`, logged, and returned as [`CacheError::Redis`].
    pub(crate) fn failed(&self, family: CommandFamily, message: &str) -> CacheError {
        self.inner.counters.add(Count::Errors, 1);
        let message = self.inner.redactor.scrub(message);
        tracing::warn!(target: "perfect21.redis_cache", ?family, error = %message, "redis command failed");
        CacheError::Redis(message)
    }

    /// Fail-open: a Redis error or timeout becomes `fallback`.
    pub(crate) fn soften<T>(&self, result: Result<T>, fallback: impl FnOnce() -> T) -> Result<T> {
        match result {
            Err(CacheError::Redis(_) | CacheError::Timeout(_)) if self.inner.fail_open => {
                Ok(fallback())
            }
            other => other,
        }
    }

    pub(crate) fn is_fail_open(&self) -> bool {
        self.inner.fail_open
    }

    /// How many `get_or_set` loads are in flight right now (keys with a
    /// shared load that has not finished).
    pub fn loads_in_flight(&self) -> usize {
        self.inner.flights.len()
    }

    pub(crate) fn ttl_or_default(&self, ttl: Option<Duration>) -> Option<Duration> {
        ttl.or(self.inner.default_ttl)
    }

    pub(crate) fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>> {
        self.inner.framing.encode(&self.inner.codec, value)
    }

    pub(crate) fn encode_with<T: Serialize + ?Sized>(
        &self,
        value: &T,
        times: Times,
    ) -> Result<Vec<u8>> {
        self.inner
            .framing
            .encode_with(&self.inner.codec, value, times)
    }
}
