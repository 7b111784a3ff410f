//! The local tier (feature `local`): an in-process L1 of encoded values in
//! front of Redis, bounded by weight, with a short TTL, coherent with
//! every writer of the namespace — this instance, other instances, and
//! any other client (a script, another service, `redis-cli`).
//!
//! Coherence comes from Redis itself: each tier keeps one connection of
//! its own in RESP3 with `CLIENT TRACKING ON BCAST PREFIX namespace:`, so
//! Redis pushes the name of every key of the namespace that changes — by a
//! write, an expiry or an eviction — and the tier evicts it
//! ([`tracking`]). A reply that left Redis before a write cannot land in
//! L1 after that write's invalidation ([`fences`]). If the tracking
//! connection is lost (or stops answering its heartbeat), L1 is emptied
//! and stays empty until tracking is back, so a value is stale at most
//! for the time an invalidation takes to arrive.

mod fences;
mod tracking;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use moka::sync::Cache;

pub(crate) use fences::Fence;
use fences::Fences;

/// Options of the local tier; see
/// [`RedisCacheBuilder::local_tier`](crate::RedisCacheBuilder::local_tier).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LocalOptions {
    pub(crate) max_bytes: u64,
    pub(crate) ttl: Duration,
}

type L1 = Cache<String, Held>;

/// An L1 copy: the encoded value and what was left of its Redis TTL when
/// it was read (`None`: no expiry). L1 keeps it for the shorter of that and
/// the tier's own TTL: Redis reports an expiry only when it reclaims the
/// key, which for a key nobody reads can be long after the TTL ran out.
#[derive(Clone)]
struct Held {
    bytes: Arc<[u8]>,
    redis_ttl: Option<Duration>,
}

/// The per-entry side of that rule, for moka (the tier's TTL is moka's
/// `time_to_live`, and the earlier of the two applies).
struct RedisTtl;

impl moka::Expiry<String, Held> for RedisTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Held,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        value.redis_ttl
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Held,
        _updated_at: std::time::Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        value.redis_ttl
    }
}

/// The counts of the local tier, for [`CacheStats`](crate::CacheStats).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalCounts {
    pub(crate) invalidations: u64,
    pub(crate) fills_discarded: u64,
    pub(crate) resyncs: u64,
}

/// What the cache and the tracking task share.
struct Tier {
    l1: L1,
    fences: Fences,
    invalidations: AtomicU64,
    fills_discarded: AtomicU64,
    resyncs: AtomicU64,
}

impl Tier {
    /// A key of the namespace changed (reported by Redis, or written here).
    fn forget(&self, key: &str) {
        self.fences.void_key(key);
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        self.l1.invalidate(key);
    }

    /// Every key may have changed.
    fn forget_all(&self) {
        self.fences.void_all();
        self.l1.invalidate_all();
    }

    /// The invalidation stream is lost: nothing in L1 can be trusted, and
    /// nothing may fill it until the stream is back.
    fn deaf(&self) {
        self.fences.deaf();
        self.l1.invalidate_all();
        self.resyncs.fetch_add(1, Relaxed);
    }
}

pub(crate) struct Local {
    tier: Arc<Tier>,
    listener: tokio::task::AbortHandle,
}

impl Drop for Local {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl Local {
    /// Opens the tracking connection (waiting for `CLIENT TRACKING`'s
    /// reply, so no later write is missed) and starts its listener.
    pub(crate) async fn start(
        client: &redis::Client,
        namespace: &str,
        options: LocalOptions,
        (connect_timeout, command_timeout): (Duration, Duration),
        fail_open: bool,
    ) -> redis::RedisResult<Self> {
        let l1: L1 = Cache::builder()
            .max_capacity(options.max_bytes)
            .weigher(|key: &String, value: &Held| {
                u32::try_from(key.len() + value.bytes.len()).unwrap_or(u32::MAX)
            })
            .time_to_live(options.ttl)
            .expire_after(RedisTtl)
            .build();
        let tier = Arc::new(Tier {
            l1,
            fences: Fences::new(),
            invalidations: AtomicU64::new(0),
            fills_discarded: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
        });
        let tracker = tracking::Tracker::new(client, namespace, connect_timeout, command_timeout)?;
        // Strict: tracking must be on before `build()` returns. Fail-open:
        // a server that is down leaves L1 empty (no fills) until the task
        // connects.
        let link = match tracker.connect().await {
            Ok(link) => {
                tier.fences.listening();
                Some(link)
            }
            Err(e) if !fail_open => return Err(e),
            Err(_) => None,
        };
        let listener = tokio::spawn(tracker.run(Arc::clone(&tier), link)).abort_handle();
        Ok(Self { tier, listener })
    }

    /// The L1 copy of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Arc<[u8]>> {
        self.tier.l1.get(key).map(|held| held.bytes)
    }

    /// A fence for a read of `key` about to ask Redis.
    pub(crate) fn fence(&self, key: &str) -> Option<Fence> {
        self.tier.fences.take(key)
    }

    /// Fills L1 with `bytes` for `key`, kept at most `redis_ttl` (what is
    /// left of the value's TTL in Redis; `None`: no expiry), unless `fence`
    /// was voided.
    pub(crate) fn fill(&self, fence: Fence, key: &str, bytes: &[u8], redis_ttl: Option<Duration>) {
        let tier = &self.tier;
        if redis_ttl == Some(Duration::ZERO) {
            return;
        }
        if !tier.fences.holds(&fence) {
            tier.fills_discarded.fetch_add(1, Relaxed);
            return;
        }
        let held = Held {
            bytes: Arc::from(bytes),
            redis_ttl,
        };
        tier.l1.insert(key.to_owned(), held);
        // The map's own synchronisation is acquire/release: this fence and
        // the one in `forget` put the insert and the void in one total
        // order with the checks (see `fences`).
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        if !tier.fences.holds(&fence) {
            tier.l1.invalidate(key);
            tier.fills_discarded.fetch_add(1, Relaxed);
        }
    }

    /// `key` was written through this instance.
    pub(crate) fn forget(&self, key: &str) {
        self.tier.forget(key);
    }

    /// The namespace was cleared through this instance.
    pub(crate) fn forget_all(&self) {
        self.tier.forget_all();
    }

    pub(crate) fn counts(&self) -> LocalCounts {
        LocalCounts {
            invalidations: self.tier.invalidations.load(Relaxed),
            fills_discarded: self.tier.fills_discarded.load(Relaxed),
            resyncs: self.tier.resyncs.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> Local {
        let tier = Arc::new(Tier {
            l1: Cache::new(1000),
            fences: Fences::new(),
            invalidations: AtomicU64::new(0),
            fills_discarded: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
        });
        tier.fences.listening();
        let listener = tokio::spawn(async {}).abort_handle();
        Local { tier, listener }
    }

    #[tokio::test]
    async fn a_value_redis_no_longer_keeps_never_fills_l1() {
        let local = local();
        let fence = local.fence("k").unwrap();
        local.fill(fence, "k", b"v", Some(Duration::ZERO));
        assert!(local.get("k").is_none());
        let fence = local.fence("k").unwrap();
        local.fill(fence, "k", b"v", Some(Duration::from_secs(60)));
        assert_eq!(local.get("k").as_deref(), Some(&b"v"[..]));
    }

    #[tokio::test]
    async fn a_fill_crossed_by_an_invalidation_of_its_key_is_discarded() {
        let local = local();
        let fence = local.fence("k").unwrap();
        // The write's invalidation arrives while the read's reply (the
        // value from before the write) is on its way.
        local.tier.forget("k");
        local.fill(fence, "k", b"old", None);
        assert!(local.get("k").is_none(), "the stale reply must not land");
        assert_eq!(local.counts().fills_discarded, 1);
        let fence = local.fence("k").unwrap();
        local.fill(fence, "k", b"new", None);
        assert_eq!(local.get("k").as_deref(), Some(&b"new"[..]));
    }

    #[tokio::test]
    async fn nothing_fills_while_deaf_and_going_deaf_empties_l1() {
        let local = local();
        let fence = local.fence("k").unwrap();
        local.fill(fence, "k", b"v", None);
        assert!(local.get("k").is_some());
        let in_flight = local.fence("j").unwrap();
        local.tier.deaf();
        assert!(local.get("k").is_none(), "a lost stream empties L1");
        assert!(local.fence("k").is_none(), "and hands out no fence");
        local.fill(in_flight, "j", b"v", None);
        assert!(local.get("j").is_none());
        assert_eq!(local.counts().resyncs, 1);
    }
}
