//! The builder: every option validated at `build()`, errors naming the field.

mod connect;
mod validate;

use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::codec::{Codec, Compression, Json};
use crate::redact::Redactor;

const MAX_REDIS_VALUE: usize = 512 * 1024 * 1024;

/// Builds a [`RedisCache`](crate::RedisCache). Start with
/// [`RedisCache::builder`](crate::RedisCache::builder).
///
/// Required: a namespace and either [`url`](Self::url) or
/// [`connection`](Self::connection). Defaults: JSON codec, no default TTL,
/// no compression, 16 MiB maximum value size, 1 s command timeout, 2 s
/// connect timeout, fail-open, corrupt values kept, `SCAN … COUNT 1000`.
pub struct RedisCacheBuilder<C = Json> {
    url: Option<String>,
    connection: Option<ConnectionManager>,
    #[cfg(feature = "cluster")]
    cluster_urls: Option<Vec<String>>,
    /// PEM of the CA that `rediss://` servers are checked against
    /// (feature `tls`; `None`: the system's roots).
    #[cfg(feature = "tls")]
    tls_root_cert: Option<Vec<u8>>,
    /// A caller's pool (features `deadpool`, `bb8`).
    #[allow(dead_code)]
    pool: Option<crate::backend::Backend>,
    namespace: Option<String>,
    default_ttl: Option<Duration>,
    codec: C,
    compress_above: Option<usize>,
    compression: Compression,
    early: Option<crate::early::EarlyRefresh>,
    max_value_size: usize,
    bounded_reads: bool,
    command_timeout: Duration,
    connect_timeout: Duration,
    fail_open: bool,
    delete_corrupt: bool,
    scan_count: usize,
    stale_grace: Option<Duration>,
    #[cfg(feature = "local")]
    local: Option<crate::local::LocalOptions>,
}

impl<C> std::fmt::Debug for RedisCacheBuilder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCacheBuilder")
            .field(
                "url",
                &self
                    .url
                    .as_deref()
                    .map(|u| Redactor::new(u).url().to_owned()),
            )
            .field("connection", &self.connection.is_some())
            .field("pool", &self.pool.is_some())
            .field("cluster", &self.cluster_debug())
            .field("namespace", &self.namespace)
            .field("default_ttl", &self.default_ttl)
            .field("compress_above", &self.compress_above)
            .field("max_value_size", &self.max_value_size)
            .field("bounded_reads", &self.bounded_reads)
            .field("command_timeout", &self.command_timeout)
            .field("fail_open", &self.fail_open)
            .finish_non_exhaustive()
    }
}

impl<C> RedisCacheBuilder<C> {
    fn cluster_debug(&self) -> Option<String> {
        #[cfg(feature = "cluster")]
        return self
            .cluster_urls
            .as_deref()
            .map(|u| Redactor::many(u).url().to_owned());
        #[cfg(not(feature = "cluster"))]
        None
    }
}

impl RedisCacheBuilder<Json> {
    pub(crate) fn new() -> Self {
        Self {
            url: None,
            connection: None,
            #[cfg(feature = "cluster")]
            cluster_urls: None,
            #[cfg(feature = "tls")]
            tls_root_cert: None,
            pool: None,
            namespace: None,
            default_ttl: None,
            codec: Json,
            compress_above: None,
            compression: Compression::Lz4,
            early: None,
            max_value_size: 16 * 1024 * 1024,
            bounded_reads: false,
            command_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(2),
            fail_open: true,
            delete_corrupt: false,
            scan_count: 1000,
            stale_grace: None,
            #[cfg(feature = "local")]
            local: None,
        }
    }
}

impl<C: Codec> RedisCacheBuilder<C> {
    /// The server, as a `redis://` URL. Its password never appears in
    /// `Debug`, logs or errors.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Uses an existing auto-reconnecting connection instead of a URL.
    pub fn connection(mut self, connection: ConnectionManager) -> Self {
        self.connection = Some(connection);
        self
    }

    /// A Redis Cluster (feature `cluster`): the `redis://` URLs of some or
    /// all of its nodes (the rest are discovered). Instead of
    /// [`url`](Self::url) / [`connection`](Self::connection); the local tier
    /// is not available on a cluster. Keys are spread over the slots by
    /// their full name (`namespace:key`); name the namespace `{…}` (e.g.
    /// `"{users}"`) to pin a whole namespace to one slot, so every batch
    /// is one command, at the price of one node serving all of it.
    #[cfg(feature = "cluster")]
    pub fn cluster_urls<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cluster_urls = Some(urls.into_iter().map(Into::into).collect());
        self
    }

    /// Trusts the CA in `pem` (PEM text) for `rediss://` URLs instead of
    /// the system's roots (feature `tls`); applies to [`url`](Self::url)
    /// and `cluster_urls`.
    #[cfg(feature = "tls")]
    pub fn tls_root_cert(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_root_cert = Some(pem.into());
        self
    }

    /// Uses a deadpool-redis pool (feature `deadpool`) instead of a URL.
    /// Each command takes a connection from the pool for its round trip;
    /// the command timeout covers the wait for one too.
    #[cfg(feature = "deadpool")]
    pub fn deadpool(mut self, pool: deadpool_redis::Pool) -> Self {
        self.pool = Some(crate::backend::Backend::Deadpool(pool));
        self
    }

    /// Uses a bb8-redis pool (feature `bb8`) instead of a URL. Each
    /// command takes a connection from the pool for its round trip; the
    /// command timeout covers the wait for one too.
    #[cfg(feature = "bb8")]
    pub fn bb8(mut self, pool: bb8::Pool<bb8_redis::RedisConnectionManager>) -> Self {
        self.pool = Some(crate::backend::Backend::Bb8(pool));
        self
    }

    /// The prefix of every key: `namespace:key` (required, 1–128 bytes).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The TTL used when a call passes `None` (at least 1 ms). Without it,
    /// such values never expire.
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// The value codec (default [`Json`]).
    pub fn codec<D: Codec>(self, codec: D) -> RedisCacheBuilder<D> {
        RedisCacheBuilder {
            url: self.url,
            connection: self.connection,
            #[cfg(feature = "cluster")]
            cluster_urls: self.cluster_urls,
            #[cfg(feature = "tls")]
            tls_root_cert: self.tls_root_cert,
            pool: self.pool,
            namespace: self.namespace,
            default_ttl: self.default_ttl,
            codec,
            compress_above: self.compress_above,
            compression: self.compression,
            early: self.early,
            max_value_size: self.max_value_size,
            bounded_reads: self.bounded_reads,
            command_timeout: self.command_timeout,
            connect_timeout: self.connect_timeout,
            fail_open: self.fail_open,
            delete_corrupt: self.delete_corrupt,
            scan_count: self.scan_count,
            stale_grace: self.stale_grace,
            #[cfg(feature = "local")]
            local: self.local,
        }
    }

    /// Compresses encoded values of at least `bytes` bytes (at least 1),
    /// with LZ4 unless [`compression`](Self::compression) says otherwise.
    pub fn compress_above(mut self, bytes: usize) -> Self {
        self.compress_above = Some(bytes);
        self
    }

    /// The compression used above [`compress_above`](Self::compress_above)
    /// (default [`Compression::Lz4`]). Values read back whichever wrote
    /// them: the header byte says.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Probabilistic early refresh for [`get_or_set`](crate::RedisCache::get_or_set)
    /// (XFetch): values it stores with a TTL carry their fresh-until time
    /// and how long the load took (`Δ`); a `get_or_set` that finds one
    /// refreshes it in the background, once per key per process, when
    /// `now + Δ·beta·(−ln u) ≥ fresh_until` for a uniform random `u` —
    /// rarely while the value is young, almost surely just before it
    /// expires, so a hot key is reloaded before its expiry sends every
    /// caller to the loader. `beta` is 0 < β ≤ 100 (1 is the paper's
    /// choice; larger refreshes earlier). Counted in `early_refreshes`.
    pub fn early_refresh(mut self, beta: f64) -> Self {
        self.early = Some(crate::early::EarlyRefresh::new(beta));
        self
    }

    /// Replaces the random source of [`early_refresh`](Self::early_refresh)
    /// (for tests and simulations): `random()` returns `u` in [0, 1] —
    /// 0 refreshes at once, 1 never before expiry. Without a prior
    /// `early_refresh` it enables it with β = 1.
    pub fn early_refresh_random(
        mut self,
        random: impl Fn() -> f64 + Send + Sync + 'static,
    ) -> Self {
        let beta = self.early.as_ref().map_or(1.0, |e| e.beta);
        self.early = Some(crate::early::EarlyRefresh {
            beta,
            random: std::sync::Arc::new(random),
        });
        self
    }

    /// Refuses to store values larger than this, before compression and
    /// after (1 byte – 512 MiB, default 16 MiB); a reader decodes no
    /// payload larger than this, whatever a stored length claims.
    pub fn max_value_size(mut self, bytes: usize) -> Self {
        self.max_value_size = bytes;
        self
    }

    /// `true`: every read asks Redis for at most `max_value_size + 1`
    /// bytes of each value (`GETRANGE key 0 max_value_size` in place of
    /// `GET`, a pipeline of them in place of `MGET`), so what a read of one
    /// value receives stays bounded by `max_value_size` whatever anyone
    /// stored (a `get_many` of `n` keys: `n` times that); an oversize value
    /// reads as a decode error, an empty one as a miss, and in a batch a
    /// key holding another type as a miss, as with `MGET`.
    ///
    /// `false` (default): `GET` and `MGET`, which deliver a stored value
    /// whole before it is refused: decoding is still bounded by
    /// `max_value_size` (compressed values never expand past it), but the
    /// reply itself is bounded only by the server's `proto-max-bulk-len`
    /// (512 MiB by default). The price of the bound, measured by `cargo
    /// xtask bench redis_cache` (the `bounded_reads` rows), is about one
    /// `GETRANGE` per key where `MGET` answers a whole batch: turn it on when
    /// processes you do not trust can write to the namespace.
    pub fn bounded_reads(mut self, bounded: bool) -> Self {
        self.bounded_reads = bounded;
        self
    }

    /// Bound on each command's round trip (1 ms – 1 h, default 1 s).
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Bound on each connection attempt (1 ms – 1 h, default 2 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// `true` (default): Redis errors and timeouts read as misses and make
    /// writes no-ops, counted in `errors`/`timeouts`, never in `misses`.
    /// `false`: they are returned. In fail-open mode `build()` does not
    /// wait for the server either.
    pub fn fail_open(mut self, fail_open: bool) -> Self {
        self.fail_open = fail_open;
        self
    }

    /// Deletes a value that fails to decode when it is read (default: keep).
    pub fn delete_corrupt(mut self, delete: bool) -> Self {
        self.delete_corrupt = delete;
        self
    }

    /// The `COUNT` hint of the `SCAN` steps of the `clear_*` calls
    /// (1–100 000, default 1000); also the `UNLINK` batch size.
    pub fn scan_count(mut self, count: usize) -> Self {
        self.scan_count = count;
        self
    }

    /// Adds the local tier (feature `local`): an in-process L1 of at most
    /// `max_bytes` of keys and encoded values (at least 1), each kept for at
    /// most `ttl` (1 ms – 1 h) and never past its TTL (or fresh-until time)
    /// in Redis, in front of Redis, coherent with every
    /// writer of the namespace through Redis's client-side-caching
    /// invalidations (`CLIENT TRACKING … BCAST`, Redis ≥ 6). Needs
    /// [`url`](Self::url): it opens one RESP3 connection of its own, and
    /// `build()` fails if tracking cannot be turned on. Reads served by L1
    /// count in `local_hits`; see the crate docs for the guarantees.
    #[cfg(feature = "local")]
    pub fn local_tier(mut self, max_bytes: u64, ttl: Duration) -> Self {
        self.local = Some(crate::local::LocalOptions { max_bytes, ttl });
        self
    }

    /// Stale-while-revalidate for [`get_or_set`](crate::RedisCache::get_or_set)
    /// (Rails' `race_condition_ttl`): values it stores with a TTL stay in
    /// Redis `grace` longer (1 ms – 1 day) and carry their fresh-until
    /// time; a `get_or_set` that finds a value past it returns the stale
    /// value at once and refreshes it in the background, once per key per
    /// process, so a hot key's expiry never sends every caller to the
    /// loader. Plain `get` returns such values as they are.
    pub fn stale_while_revalidate(mut self, grace: Duration) -> Self {
        self.stale_grace = Some(grace);
        self
    }
}
