//! `RedisCache`: the cache-aside operations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::{Cmd, FromRedisValue, Pipeline, RedisWrite};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::{Backend, NsKey};
use crate::builder::RedisCacheBuilder;
use crate::codec::{Codec, Framing, Json, Times};
use crate::error::{CacheError, Result};
use crate::flight::Flights;
use crate::keys::escape_glob;
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

/// What a write changed, for the local tiers of other instances.
#[cfg_attr(not(feature = "local"), allow(dead_code))]
pub(crate) enum Changed<'a> {
    Keys(&'a [String]),
    All,
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
        self.inner.counters.snapshot()
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

    /// Whether a local tier is configured (its L1 needs the full keys).
    pub(crate) fn has_local(&self) -> bool {
        #[cfg(feature = "local")]
        return self.inner.local.is_some();
        #[cfg(not(feature = "local"))]
        false
    }

    // ---- plumbing -------------------------------------------------------

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
            Ok(Err(e)) => {
                counters.add(Count::Errors, 1);
                let message = self.inner.redactor.scrub(&e.to_string());
                tracing::warn!(target: "perfect21.redis_cache", ?family, error = %message, "redis command failed");
                Err(CacheError::Redis(message))
            }
            Err(_) => {
                counters.add(Count::Timeouts, 1);
                tracing::warn!(target: "perfect21.redis_cache", ?family, "redis command timed out");
                Err(CacheError::Timeout(self.inner.command_timeout))
            }
        }
    }

    /// Runs a write; with a local tier, in one pipeline with the `PUBLISH`
    /// that tells the other instances what changed.
    async fn write<T: FromRedisValue>(
        &self,
        family: CommandFamily,
        cmd: Cmd,
        changed: Changed<'_>,
    ) -> Result<T> {
        #[cfg(feature = "local")]
        if let Some(local) = &self.inner.local {
            let mut pipe = redis::pipe();
            pipe.add_command(cmd);
            pipe.add_command(local.publish(changed)).ignore();
            return self.run_pipeline::<(T,)>(family, &pipe).await.map(|(t,)| t);
        }
        let _ = changed;
        self.run(family, &cmd).await
    }

    /// The L1 copy of `full_key`, if the local tier has one.
    #[cfg_attr(not(feature = "local"), allow(unused_variables))]
    fn l1_get(&self, full_key: &str) -> Option<std::sync::Arc<[u8]>> {
        #[cfg(feature = "local")]
        if let Some(local) = &self.inner.local {
            return local.l1.get(full_key);
        }
        None
    }

    #[cfg_attr(not(feature = "local"), allow(unused_variables))]
    fn l1_put(&self, full_key: &str, bytes: &[u8]) {
        #[cfg(feature = "local")]
        if let Some(local) = &self.inner.local {
            local
                .l1
                .insert(full_key.to_owned(), std::sync::Arc::from(bytes));
        }
    }

    #[cfg_attr(not(feature = "local"), allow(unused_variables))]
    fn l1_forget(&self, changed: Changed<'_>) {
        #[cfg(feature = "local")]
        if let Some(local) = &self.inner.local {
            match changed {
                Changed::Keys(keys) => keys.iter().for_each(|k| local.l1.invalidate(k)),
                Changed::All => local.l1.invalidate_all(),
            }
        }
    }

    /// A value from the local tier, decoded; a value that does not decode
    /// is dropped from L1 and read from Redis instead.
    pub(crate) fn read_l1<T: DeserializeOwned>(&self, full_key: &str) -> Option<T> {
        let bytes = self.l1_get(full_key)?;
        match self.inner.framing.decode(&self.inner.codec, &bytes) {
            Ok(value) => {
                self.inner.counters.add(Count::LocalHits, 1);
                Some(value)
            }
            Err(_) => {
                self.l1_forget(Changed::Keys(&[full_key.to_owned()]));
                None
            }
        }
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

    /// Turns one reply slot into a value, counting hit, miss or decode error.
    pub(crate) async fn decode_found<T: DeserializeOwned>(
        &self,
        full_key: &str,
        raw: Option<Vec<u8>>,
    ) -> Option<T> {
        self.decode_found_fresh(full_key, raw)
            .await
            .map(|(value, _)| value)
    }

    /// [`decode_found`](Self::decode_found) with the value's fresh-until
    /// time (Unix ms), where it was stored with one.
    pub(crate) async fn decode_found_fresh<T: DeserializeOwned>(
        &self,
        full_key: &str,
        raw: Option<Vec<u8>>,
    ) -> Option<(T, Times)> {
        let mut tally = Tally::default();
        let found = self.decode_raw(raw.as_deref(), &mut tally);
        tally.flush(&self.inner.counters);
        match found {
            Found::Value(value, times) => {
                if let Some(bytes) = &raw {
                    self.l1_put(full_key, bytes);
                }
                Some((value, times))
            }
            Found::Missing => None,
            Found::Corrupt => {
                self.forget_corrupt(&[full_key.to_owned()]).await;
                None
            }
        }
    }

    /// Decodes one reply slot, tallying hit, miss, decode error and bytes
    /// (added to the shared counters once per call, not once per key).
    pub(crate) fn decode_raw<T: DeserializeOwned>(
        &self,
        raw: Option<&[u8]>,
        tally: &mut Tally,
    ) -> Found<T> {
        let Some(bytes) = raw else {
            tally.misses += 1;
            return Found::Missing;
        };
        tally.bytes_read += bytes.len() as u64;
        match self.inner.framing.decode_with(&self.inner.codec, bytes) {
            Ok((value, times)) => {
                tally.hits += 1;
                Found::Value(value, times)
            }
            Err(e) => {
                tally.decode_errors += 1;
                tracing::warn!(target: "perfect21.redis_cache", namespace = %self.inner.namespace, error = %e, "stored value does not decode; read as a miss");
                Found::Corrupt
            }
        }
    }

    /// After values failed to decode: removes them if so configured.
    async fn forget_corrupt(&self, full_keys: &[String]) {
        if self.inner.delete_corrupt && !full_keys.is_empty() {
            let _ = self.unlink(full_keys).await;
        }
    }

    pub(crate) fn set_cmd(
        &self,
        key: impl redis::ToSingleRedisArg,
        bytes: &[u8],
        ttl: Option<Duration>,
    ) -> Cmd {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(bytes);
        if let Some(ttl) = self.ttl_or_default(ttl) {
            cmd.arg("PX").arg(ttl.as_millis().max(1) as u64);
        }
        cmd
    }

    // ---- reads ----------------------------------------------------------

    /// Reads `key`. `Ok(None)` on a miss, and — counted separately — on a
    /// value that does not decode and (fail-open) on a Redis error.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        if self.has_local() {
            let full = self.full_key(key);
            if let Some(value) = self.read_l1(&full) {
                return Ok(Some(value));
            }
            let raw = self.soften(
                self.run(CommandFamily::Read, redis::cmd("GET").arg(&full))
                    .await
                    .map(Some),
                || None,
            )?;
            return Ok(match raw {
                Some(raw) => self.decode_found(&full, raw).await,
                None => None,
            });
        }
        let raw: Option<Option<Vec<u8>>> = self.soften(
            self.run(CommandFamily::Read, redis::cmd("GET").arg(self.ns_key(key)))
                .await
                .map(Some),
            || None,
        )?;
        let Some(raw) = raw else {
            return Ok(None);
        };
        let mut tally = Tally::default();
        let found = self.decode_raw(raw.as_deref(), &mut tally);
        tally.flush(&self.inner.counters);
        Ok(match found {
            Found::Value(value, _) => Some(value),
            Found::Missing => None,
            Found::Corrupt => {
                self.forget_corrupt(&[self.full_key(key)]).await;
                None
            }
        })
    }

    /// Reads many keys with one `MGET`; the result is in the order of
    /// `keys`, `None` where [`get`](Self::get) would give `None`.
    pub async fn get_many<T: DeserializeOwned, K: AsRef<str>>(
        &self,
        keys: &[K],
    ) -> Result<Vec<Option<T>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        #[cfg(feature = "cluster")]
        if self.inner.backend.cluster().is_some() {
            return self.cluster_get_many(keys).await;
        }
        if !self.has_local() {
            let mut cmd = self.mget_cmd(keys);
            for key in keys {
                cmd.arg(self.ns_key(key.as_ref()));
            }
            return self.mget_into(keys, &cmd).await;
        }
        let full: Vec<String> = keys.iter().map(|k| self.full_key(k.as_ref())).collect();
        let mut out: Vec<Option<T>> = Vec::with_capacity(full.len());
        let mut remote: Vec<usize> = Vec::new();
        for (i, key) in full.iter().enumerate() {
            let local = self.read_l1(key);
            if local.is_none() {
                remote.push(i);
            }
            out.push(local);
        }
        if remote.is_empty() {
            return Ok(out);
        }
        let remote_keys: Vec<&String> = remote.iter().map(|&i| &full[i]).collect();
        let replies: Option<Vec<Option<Vec<u8>>>> = self.soften(
            self.run(CommandFamily::Read, redis::cmd("MGET").arg(&remote_keys))
                .await
                .map(Some),
            || None,
        )?;
        let Some(replies) = replies else {
            return Ok(out);
        };
        for (raw, &i) in replies.into_iter().zip(&remote) {
            out[i] = self.decode_found(&full[i], raw).await;
        }
        Ok(out)
    }

    /// An `MGET` with room reserved for the namespaced `keys` (which the
    /// caller adds), so the command buffer is not regrown key by key.
    pub(crate) fn mget_cmd<K: AsRef<str>>(&self, keys: &[K]) -> Cmd {
        let mut cmd = redis::cmd("MGET");
        let prefix = self.inner.namespace.len() + 1;
        cmd.reserve_space_for_args(keys.iter().map(|k| prefix + k.as_ref().len()));
        cmd
    }

    /// Runs one `MGET` of `keys` (already in `cmd`) and decodes the reply
    /// in order: one counter update per call, corrupt values forgotten
    /// together at the end.
    pub(crate) async fn mget_into<T: DeserializeOwned, K: AsRef<str>>(
        &self,
        keys: &[K],
        cmd: &Cmd,
    ) -> Result<Vec<Option<T>>> {
        let replies: Option<Vec<Option<Vec<u8>>>> =
            self.soften(self.run(CommandFamily::Read, cmd).await.map(Some), || None)?;
        let Some(replies) = replies else {
            return Ok(keys.iter().map(|_| None).collect());
        };
        let mut tally = Tally::default();
        let mut corrupt = Vec::new();
        let out = replies
            .iter()
            .zip(keys)
            .map(
                |(raw, key)| match self.decode_raw(raw.as_deref(), &mut tally) {
                    Found::Value(value, _) => Some(value),
                    Found::Missing => None,
                    Found::Corrupt => {
                        corrupt.push(self.full_key(key.as_ref()));
                        None
                    }
                },
            )
            .collect();
        tally.flush(&self.inner.counters);
        self.forget_corrupt(&corrupt).await;
        Ok(out)
    }

    /// Whether `key` exists (`EXISTS`; fail-open: `false`).
    pub async fn exists(&self, key: &str) -> Result<bool> {
        let r = self
            .run(
                CommandFamily::Other,
                redis::cmd("EXISTS").arg(self.full_key(key)),
            )
            .await;
        self.soften(r.map(|n: u64| n > 0), || false)
    }

    /// The remaining time to live of `key` (`PTTL`); `None` when the key
    /// does not exist or never expires (fail-open: `None`).
    pub async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        let r = self
            .run(
                CommandFamily::Other,
                redis::cmd("PTTL").arg(self.full_key(key)),
            )
            .await;
        self.soften(
            r.map(|ms: i64| u64::try_from(ms).ok().map(Duration::from_millis)),
            || None,
        )
    }

    // ---- writes ---------------------------------------------------------

    /// Stores `value` under `key` for `ttl` (`None`: the default TTL).
    /// Encoding errors and oversize values are always returned.
    pub async fn set<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let bytes = self.encode(value)?;
        self.set_encoded(key, &bytes, ttl).await
    }

    pub(crate) async fn set_encoded(
        &self,
        key: &str,
        bytes: &[u8],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let r = if self.has_local() {
            let full = [self.full_key(key)];
            let cmd = self.set_cmd(&full[0], bytes, ttl);
            let r = self
                .write::<()>(CommandFamily::Write, cmd, Changed::Keys(&full))
                .await;
            if r.is_ok() {
                self.l1_put(&full[0], bytes);
            }
            r
        } else {
            let cmd = self.set_cmd(self.ns_key(key), bytes, ttl);
            self.run::<()>(CommandFamily::Write, &cmd).await
        };
        if r.is_ok() {
            let counters = &self.inner.counters;
            counters.add(Count::Sets, 1);
            counters.add(Count::BytesWritten, bytes.len() as u64);
        }
        self.soften(r, || ())
    }

    /// Stores `value` only if `key` does not exist (`SET … NX`); whether it
    /// was stored.
    pub async fn set_nx<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        self.set_conditional(key, value, ttl, "NX").await
    }

    /// Stores `value` only if `key` exists (`SET … XX`); whether it was
    /// stored.
    pub async fn set_xx<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        self.set_conditional(key, value, ttl, "XX").await
    }

    async fn set_conditional<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
        condition: &str,
    ) -> Result<bool> {
        let bytes = self.encode(value)?;
        let full = [self.full_key(key)];
        let mut cmd = self.set_cmd(&full[0], &bytes, ttl);
        cmd.arg(condition);
        let r: Result<Option<String>> = self
            .write(CommandFamily::Write, cmd, Changed::Keys(&full))
            .await;
        let stored = r.map(|reply| reply.is_some());
        if let Ok(true) = stored {
            self.l1_put(&full[0], &bytes);
            self.inner.counters.add(Count::Sets, 1);
            self.inner
                .counters
                .add(Count::BytesWritten, bytes.len() as u64);
        }
        self.soften(stored, || false)
    }

    /// Stores every pair in one pipeline of `SET … PX` (one round trip).
    /// Every value is encoded first: one that fails or is too large fails
    /// the call before anything is sent.
    pub async fn set_many<K: AsRef<str>, T: Serialize>(
        &self,
        items: &[(K, T)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        #[cfg(feature = "cluster")]
        if self.inner.backend.cluster().is_some() {
            return self.cluster_set_many(items, ttl).await;
        }
        let mut pipe = redis::pipe();
        let mut bytes_total = 0u64;
        let mut encoded = Vec::with_capacity(items.len());
        for (key, value) in items {
            let bytes = self.encode(value)?;
            bytes_total += bytes.len() as u64;
            let full = self.full_key(key.as_ref());
            pipe.add_command(self.set_cmd(&full, &bytes, ttl)).ignore();
            encoded.push((full, bytes));
        }
        #[cfg(feature = "local")]
        if let Some(local) = &self.inner.local {
            let keys: Vec<String> = encoded.iter().map(|(k, _)| k.clone()).collect();
            pipe.add_command(local.publish(Changed::Keys(&keys)))
                .ignore();
        }
        let r = self.run_pipeline::<()>(CommandFamily::Write, &pipe).await;
        if r.is_ok() {
            for (full, bytes) in &encoded {
                self.l1_put(full, bytes);
            }
            self.inner.counters.add(Count::Sets, items.len() as u64);
            self.inner.counters.add(Count::BytesWritten, bytes_total);
        }
        self.soften(r, || ())
    }

    /// Sets a new time to live on `key` (`PEXPIRE`); whether the key exists.
    pub async fn expire(&self, key: &str, ttl: Duration) -> Result<bool> {
        let cmd = redis::cmd("PEXPIRE")
            .arg(self.full_key(key))
            .arg(ttl.as_millis().max(1) as u64)
            .to_owned();
        let r = self.run(CommandFamily::Other, &cmd).await;
        self.soften(r.map(|n: u64| n > 0), || false)
    }

    /// Removes `key` (`UNLINK`); whether it existed.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        self.delete_many(&[key]).await.map(|n| n > 0)
    }

    /// Removes keys with one `UNLINK`; how many existed.
    pub async fn delete_many<K: AsRef<str>>(&self, keys: &[K]) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let full: Vec<String> = keys.iter().map(|k| self.full_key(k.as_ref())).collect();
        let r = self.unlink(&full).await;
        self.soften(r, || 0)
    }

    async fn unlink(&self, full_keys: &[String]) -> Result<u64> {
        self.l1_forget(Changed::Keys(full_keys));
        #[cfg(feature = "cluster")]
        if self.inner.backend.cluster().is_some() {
            return self.cluster_unlink(full_keys).await;
        }
        let cmd = redis::cmd("UNLINK").arg(full_keys).to_owned();
        let removed: u64 = self
            .write(CommandFamily::Delete, cmd, Changed::Keys(full_keys))
            .await?;
        self.inner.counters.add(Count::Deletes, removed);
        Ok(removed)
    }

    // ---- clearing -------------------------------------------------------

    /// Removes every key of this cache's namespace with `SCAN MATCH … COUNT`
    /// and batched `UNLINK` — never `KEYS`, so Redis keeps serving other
    /// clients. Returns how many keys were removed (fail-open: removed so
    /// far). Keys written during the scan may survive.
    pub async fn clear_namespace(&self) -> Result<u64> {
        self.clear_glob(&format!("{}:*", escape_glob(&self.inner.namespace)))
            .await
    }

    /// Removes every key of the namespace that starts with `prefix`. Glob
    /// characters in `prefix` are escaped: `clear_prefix("a*")` removes
    /// `a*1` but not `ab`.
    pub async fn clear_prefix(&self, prefix: &str) -> Result<u64> {
        self.clear_glob(&format!(
            "{}:{}*",
            escape_glob(&self.inner.namespace),
            escape_glob(prefix)
        ))
        .await
    }

    /// Removes the keys of the namespace matching the Redis glob `pattern`
    /// (applied to the part after `namespace:`). The pattern is used as
    /// given: escape user-supplied parts with [`escape_glob`].
    pub async fn clear_pattern(&self, pattern: &str) -> Result<u64> {
        self.clear_glob(&format!("{}:{pattern}", escape_glob(&self.inner.namespace)))
            .await
    }

    /// After a clear: empties this L1 and tells the other instances to.
    async fn forget_all(&self) {
        self.l1_forget(Changed::All);
        #[cfg(feature = "local")]
        if let Some(local) = &self.inner.local {
            let _: Result<()> = self
                .run(CommandFamily::Other, &local.publish(Changed::All))
                .await;
        }
    }

    /// One `SCAN cursor MATCH glob COUNT scan_count` step.
    pub(crate) fn scan_cmd(&self, cursor: u64, glob: &str) -> Cmd {
        redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(glob)
            .arg("COUNT")
            .arg(self.inner.scan_count)
            .to_owned()
    }

    async fn clear_glob(&self, glob: &str) -> Result<u64> {
        #[cfg(feature = "cluster")]
        if self.inner.backend.cluster().is_some() {
            return self.cluster_clear_glob(glob).await;
        }
        let mut cursor: u64 = 0;
        let mut removed = 0u64;
        loop {
            let cmd = self.scan_cmd(cursor, glob);
            let step: Result<(u64, Vec<Vec<u8>>)> = self.run(CommandFamily::Scan, &cmd).await;
            let (next, keys) = match step {
                Ok(step) => step,
                Err(e) => return self.soften(Err(e), || removed),
            };
            for chunk in keys.chunks(self.inner.scan_count) {
                let unlinked: Result<u64> = self
                    .run(CommandFamily::Delete, redis::cmd("UNLINK").arg(chunk))
                    .await;
                match unlinked {
                    Ok(n) => {
                        self.inner.counters.add(Count::Deletes, n);
                        removed += n;
                    }
                    Err(e) => return self.soften(Err(e), || removed),
                }
            }
            if next == 0 {
                self.forget_all().await;
                return Ok(removed);
            }
            cursor = next;
        }
    }

    // ---- server ---------------------------------------------------------

    /// `PING` under the command timeout; the round trip. Always strict:
    /// errors are returned whatever the fail-open setting.
    pub async fn health_check(&self) -> Result<Duration> {
        let started = Instant::now();
        let _: String = self.run(CommandFamily::Other, &redis::cmd("PING")).await?;
        Ok(started.elapsed())
    }

    /// `INFO stats memory clients keyspace`, parsed (always strict); on a
    /// cluster, the sum over its primaries.
    pub async fn server_stats(&self) -> Result<crate::server::ServerStats> {
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
        let mut stats = crate::server::ServerStats::default();
        for text in texts {
            let text: String = redis::from_redis_value(text)
                .map_err(|e| CacheError::Redis(format!("INFO: {e}")))?;
            stats.add(crate::server::ServerStats::parse(&text));
        }
        Ok(stats)
    }
}

/// Per-call tallies of a read, added to the shared counters once.
#[derive(Default)]
pub(crate) struct Tally {
    hits: u64,
    misses: u64,
    decode_errors: u64,
    bytes_read: u64,
}

impl Tally {
    pub(crate) fn flush(&self, counters: &Counters) {
        counters.add(Count::Hits, self.hits);
        counters.add(Count::Misses, self.misses);
        counters.add(Count::DecodeErrors, self.decode_errors);
        counters.add(Count::BytesRead, self.bytes_read);
    }
}

/// One decoded reply slot.
pub(crate) enum Found<T> {
    /// A value, with its header times.
    Value(T, Times),
    /// The key does not exist.
    Missing,
    /// The value failed to decode.
    Corrupt,
}
