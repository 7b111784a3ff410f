//! [`ConcurrentLru`]: the sharded, thread-safe form, with single-flight
//! loading.

use std::borrow::Borrow;
use std::convert::Infallible;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::num::NonZeroUsize;
use std::time::Duration;

use hashbrown::DefaultHashBuilder;

use crate::builder::{ConcurrentLruBuilder, Listener, Options};
use crate::core::{Core, Evicted, Expiry, Limits, Probe};
use crate::error::{Error, Rejected};
use crate::flight::{Flight, Landing, Phase};
use crate::list::MAX_NODES;
use crate::stats::CacheStats;
use crate::sync::{Arc, AtomicU64, Mutex, Ordering, RwLock, RwLockWriteGuard};
use crate::weigher::{UnitWeigher, Weigher};

/// One shard: an exact LRU over its part of the keys, and the loads in
/// flight for its keys.
pub(crate) struct Shard<K, V> {
    pub(crate) core: Core<K, V>,
    pub(crate) flights: Vec<(K, Arc<Flight<V>>)>,
}

/// A shard behind its lock, with the hit and miss counters of read-locked
/// lookups (atomics: readers share the lock); aligned so that no two
/// shards share a cache line.
#[repr(align(128))]
struct Slot<K, V> {
    lock: RwLock<Shard<K, V>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// A thread-safe LRU cache: `Send + Sync`, every method takes `&self`.
///
/// Keys are spread over shards by hash. Each shard is an LRU (the same
/// engine as [`LruCache`](crate::LruCache)) under a `parking_lot` `RwLock`.
/// Inserts, removals and reclaiming expired entries take the write lock;
/// lookups take the read lock. A hit on an entry already among the most
/// recently used eighth of its shard leaves it where it is; a hit on an
/// older entry moves it to the head if the shard's write lock is free at
/// that moment, and skips the move when another thread holds it (lossy
/// promotion: readers never wait for writers). So the order is approximate
/// within a shard as well as across shards. On the ARC paper's OLTP trace
/// replayed by two threads (round-robin, in lockstep rounds of 64 accesses
/// each: free-running threads turn one trace into two unrelated ones) the
/// hit ratio stayed within 0.12 point of exact
/// LRU on an idle machine and within 0.51 point when another process took
/// one of the two cores (more contention, more skipped moves). Hit and miss
/// counts stay exact.
///
/// **Bounds.** `max_entries` and `max_weight` are split across the shards —
/// each gets `bound / shards`, the first `bound % shards` one more — and
/// each shard enforces its share strictly, so the global bounds hold after
/// every call. The builder uses fewer shards than asked when a shard's
/// share of `max_entries` would fall under 64 entries, or its share of
/// `max_weight` under 1. An entry heavier than its shard's share of
/// `max_weight` is [`Rejected`]: with entries that are large next to
/// `max_weight`, ask for fewer shards (1 gives one global LRU).
///
/// **Values** are returned as clones: store `Arc<V>` when `V` is large.
///
/// **Single flight.** [`get_or_insert_with`](Self::get_or_insert_with) runs
/// the loader once for concurrent callers of the same missing key; the
/// others wait for it (without holding any lock) and get a clone of the same
/// value. If the loader panics, or returns an error from
/// [`try_get_or_insert_with`](Self::try_get_or_insert_with), the waiters are
/// released and look again: one of them runs its own loader. Nothing is
/// poisoned.
///
/// **Listener.** Called after the shard's lock is released: it may call any
/// method of this cache.
///
/// ```
/// use std::sync::Arc;
/// use perfect21_lru::ConcurrentLru;
///
/// let cache: Arc<ConcurrentLru<u64, Arc<String>>> =
///     Arc::new(ConcurrentLru::builder().max_entries(10_000).build()?);
/// let handles: Vec<_> = (0..4)
///     .map(|t| {
///         let cache = Arc::clone(&cache);
///         std::thread::spawn(move || {
///             let v = cache.get_or_insert_with(7, || Arc::new(format!("loaded by {t}")));
///             assert!(v.starts_with("loaded by"));
///         })
///     })
///     .collect();
/// for h in handles {
///     h.join().unwrap();
/// }
/// assert_eq!(cache.stats().loads, 1);
/// # Ok::<(), perfect21_lru::Error>(())
/// ```
pub struct ConcurrentLru<K, V, S = DefaultHashBuilder, W = UnitWeigher> {
    shards: Box<[Slot<K, V>]>,
    mask: usize,
    hasher: S,
    weigher: W,
    listener: Option<Listener<K, V>>,
    /// The global bounds as set (`MAX_NODES` / `u64::MAX`: unbounded).
    limits: Mutex<Limits>,
    /// Lookups served by another caller's loader (hits).
    served: AtomicU64,
    /// Callers waiting for another caller's loader now.
    waiting: AtomicU64,
}

/// `total` split over `shards`: shard `index`'s share.
fn share<T>(total: T, shards: usize, index: usize) -> T
where
    T: TryFrom<usize> + TryInto<u128> + Copy,
{
    let total_wide: u128 = total.try_into().unwrap_or(0);
    let n = shards as u128;
    let part = total_wide / n + u128::from((index as u128) < total_wide % n);
    usize::try_from(part)
        .ok()
        .and_then(|p| T::try_from(p).ok())
        .unwrap_or(total)
}

impl<K: Hash + Eq, V> ConcurrentLru<K, V> {
    /// A cache of at most `max_entries` entries with the default shard
    /// count, hasher, and no weight bound, expiry or listener.
    pub fn new(max_entries: NonZeroUsize) -> Self {
        let n = max_entries.get().min(MAX_NODES);
        let shards = crate::builder::fit_shards(crate::builder::default_shards(), Some(n), None);
        let limits = Limits {
            max_entries: n,
            max_weight: u64::MAX,
            ttl: None,
        };
        Self::from_options(Options::new(), limits, shards)
    }
}

impl<K, V> ConcurrentLru<K, V> {
    /// A builder for every option: bounds, shards, weigher, time to live,
    /// clock, hasher, eviction listener.
    pub fn builder() -> ConcurrentLruBuilder<K, V> {
        ConcurrentLruBuilder::new()
    }
}

impl<K, V, S, W> ConcurrentLru<K, V, S, W> {
    pub(crate) fn from_options(
        options: Options<K, V, S, W>,
        limits: Limits,
        shards: usize,
    ) -> Self {
        let unbounded_entries = limits.max_entries == MAX_NODES;
        let unbounded_weight = limits.max_weight == u64::MAX;
        let shard_list = (0..shards)
            .map(|index| {
                let shard_limits = Limits {
                    max_entries: if unbounded_entries {
                        MAX_NODES
                    } else {
                        share(limits.max_entries, shards, index)
                    },
                    max_weight: if unbounded_weight {
                        u64::MAX
                    } else {
                        share(limits.max_weight, shards, index)
                    },
                    ttl: limits.ttl,
                };
                Slot {
                    lock: RwLock::new(Shard {
                        core: Core::new(shard_limits, options.timer(), options.listener.is_some()),
                        flights: Vec::new(),
                    }),
                    hits: AtomicU64::new(0),
                    misses: AtomicU64::new(0),
                }
            })
            .collect();
        Self {
            shards: shard_list,
            mask: shards - 1,
            hasher: options.hasher,
            weigher: options.weigher,
            listener: options.listener,
            limits: Mutex::new(limits),
            served: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
        }
    }

    /// The number of shards.
    pub fn shards(&self) -> usize {
        self.shards.len()
    }

    #[inline]
    fn slot(&self, hash: u64) -> &Slot<K, V> {
        // hashbrown uses the low bits for the bucket and the top seven for
        // the tag; the shard takes bits from the middle.
        &self.shards[(hash >> 32) as usize & self.mask]
    }

    #[inline]
    fn shard(&self, hash: u64) -> &RwLock<Shard<K, V>> {
        &self.slot(hash).lock
    }

    /// Unlocks `shard`, then hands what it evicted to the listener.
    #[inline]
    fn release(&self, mut shard: RwLockWriteGuard<'_, Shard<K, V>>) {
        if shard.core.evicted.is_empty() {
            return;
        }
        let evicted = std::mem::take(&mut shard.core.evicted);
        drop(shard);
        self.notify(evicted);
    }

    fn notify(&self, evicted: Vec<Evicted<K, V>>) {
        if let Some(listener) = &self.listener {
            for (key, value, cause) in evicted {
                listener(key, value, cause);
            }
        }
    }

    /// Entries held (expired ones not yet reclaimed included). Sums the
    /// shards one at a time.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock.read().core.len()).sum()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The total weight of the entries held (saturating at `u64::MAX`:
    /// without a weight bound each shard may hold up to that much).
    pub fn weight(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.lock.read().core.weight())
            .fold(0, u64::saturating_add)
    }

    /// The entry bound; `None` when only the weight is bounded.
    pub fn max_entries(&self) -> Option<usize> {
        let max = self.limits.lock().max_entries;
        (max != MAX_NODES).then_some(max)
    }

    /// The weight bound; `None` when only the count is bounded.
    pub fn max_weight(&self) -> Option<u64> {
        let max = self.limits.lock().max_weight;
        (max != u64::MAX).then_some(max)
    }

    /// A snapshot of the counters, summed over the shards (each shard's
    /// counts are exact; shards are read one after another).
    pub fn stats(&self) -> CacheStats {
        let mut total = CacheStats::default();
        for slot in self.shards.iter() {
            total.add(&slot.lock.read().core.stats());
            total.hits += slot.hits.load(Ordering::Relaxed);
            total.misses += slot.misses.load(Ordering::Relaxed);
        }
        total.hits += self.served.load(Ordering::Relaxed);
        total.waiting = self.waiting.load(Ordering::Relaxed);
        total
    }

    /// Zeroes the counters (`len`, `weight` and `waiting` stay).
    pub fn reset_stats(&self) {
        for slot in self.shards.iter() {
            slot.lock.write().core.reset_stats();
            slot.hits.store(0, Ordering::Relaxed);
            slot.misses.store(0, Ordering::Relaxed);
        }
        self.served.store(0, Ordering::Relaxed);
    }

    /// Drops every entry; each goes to the listener as
    /// [`Explicit`](crate::EvictionCause::Explicit).
    pub fn clear(&self) {
        for shard in self.shards.iter() {
            let mut shard = shard.lock.write();
            shard.core.clear();
            self.release(shard);
        }
    }
}

impl<K, V, S, W> ConcurrentLru<K, V, S, W>
where
    K: Hash + Eq,
    S: BuildHasher,
    W: Weigher<K, V>,
{
    /// A clone of the value under `key`, made the most recently used in its
    /// shard. Counts a hit or a miss.
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let hash = self.hasher.hash_one(key);
        let slot = self.slot(hash);
        {
            // Hits are served under the read lock. An entry already among
            // the most recent eighth of its shard is left where it is
            // (moving it would barely change the order); an older one is
            // moved to the head if the write lock is free right now, and
            // left where it is when another thread holds it (a lossy
            // promotion, as in Caffeine's read buffers: readers never wait
            // for writers' work). See `Core::probe`.
            let shard = slot.lock.read();
            match shard.core.probe(hash, key) {
                Probe::Recent(i) => {
                    let value = shard.core.value(i).clone();
                    drop(shard);
                    slot.hits.fetch_add(1, Ordering::Relaxed);
                    return Some(value);
                }
                Probe::Stale(i) => {
                    let value = shard.core.value(i).clone();
                    drop(shard);
                    slot.hits.fetch_add(1, Ordering::Relaxed);
                    if let Some(mut shard) = slot.lock.try_write() {
                        // Still there (or back): promote; reclaim if it
                        // expired meanwhile.
                        let _ = shard.core.lookup(hash, key, &self.hasher);
                        self.release(shard);
                    }
                    return Some(value);
                }
                Probe::Missing => {
                    drop(shard);
                    slot.misses.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                Probe::Expired => {}
            }
        }
        let mut shard = slot.lock.write();
        let found = match shard.core.lookup(hash, key, &self.hasher) {
            Some(i) => {
                shard.core.stats.hits += 1;
                Some(shard.core.value(i).clone())
            }
            None => {
                shard.core.stats.misses += 1;
                None
            }
        };
        self.release(shard);
        found
    }

    /// A clone of the value under `key`, order and counters unchanged.
    pub fn peek<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let hash = self.hasher.hash_one(key);
        let shard = self.shard(hash).read();
        let i = shard.core.peek(hash, key)?;
        Some(shard.core.value(i).clone())
    }

    /// Whether a live entry is under `key` (order and counters unchanged).
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        self.shard(hash).read().core.peek(hash, key).is_some()
    }

    /// Writes `key → value`, evicting least recently used entries of its
    /// shard until the shard's bounds hold. Returns the live value it
    /// replaced.
    ///
    /// # Errors
    ///
    /// [`Rejected`], with the key and value, when the entry alone weighs
    /// more than its shard's share of `max_weight`; nothing changes.
    pub fn insert(&self, key: K, value: V) -> Result<Option<V>, Rejected<K, V>> {
        self.write(key, value, Expiry::Default)
    }

    /// Like [`insert`](Self::insert), but the entry expires after `ttl`.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert).
    pub fn insert_with_ttl(
        &self,
        key: K,
        value: V,
        ttl: Duration,
    ) -> Result<Option<V>, Rejected<K, V>> {
        self.write(key, value, Expiry::After(ttl))
    }

    fn write(&self, key: K, value: V, expiry: Expiry) -> Result<Option<V>, Rejected<K, V>> {
        let weight = self.weigher.weigh(&key, &value);
        let hash = self.hasher.hash_one(&key);
        let mut shard = self.shard(hash).write();
        let result = shard
            .core
            .insert(hash, key, value, weight, expiry, &self.hasher);
        self.release(shard);
        result
    }

    /// Takes the live entry under `key` out and returns its value.
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let mut shard = self.shard(hash).write();
        let removed = shard.core.remove(hash, key, &self.hasher);
        self.release(shard);
        removed.map(|(_, v)| v)
    }

    /// Keeps only the entries for which `keep` returns `true`; the others go
    /// to the listener as [`Explicit`](crate::EvictionCause::Explicit).
    /// Runs `keep` under each shard's lock in turn: it must not call this
    /// cache.
    pub fn retain(&self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        for shard in self.shards.iter() {
            let mut shard = shard.lock.write();
            shard.core.retain(&mut keep, &self.hasher);
            self.release(shard);
        }
    }

    /// Reclaims every expired entry now; returns how many. O(n).
    pub fn purge_expired(&self) -> usize {
        let mut purged = 0;
        for shard in self.shards.iter() {
            let mut shard = shard.lock.write();
            purged += shard.core.purge_expired(&self.hasher);
            self.release(shard);
        }
        purged
    }

    /// Changes the entry bound (re-split over the same shards), evicting
    /// down to it before returning.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfRange`] unless `shards() <= max_entries <= 4294967294`
    /// (every shard must hold at least one entry).
    pub fn set_max_entries(&self, max_entries: usize) -> Result<(), Error> {
        let shards = self.shards.len();
        if !(shards..=MAX_NODES).contains(&max_entries) {
            return Err(Error::out_of_range(
                "max_entries",
                max_entries,
                format!("{shards}..=4294967294 with {shards} shards"),
            ));
        }
        let evicted = {
            let mut limits = self.limits.lock();
            limits.max_entries = max_entries;
            self.resplit(|core, index| {
                core.set_max_entries(share(max_entries, shards, index), &self.hasher);
            })
        };
        self.notify(evicted);
        Ok(())
    }

    /// Changes the weight bound (re-split over the same shards), evicting
    /// down to it before returning.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfRange`] if `max_weight < shards()`.
    pub fn set_max_weight(&self, max_weight: u64) -> Result<(), Error> {
        let shards = self.shards.len();
        if max_weight < shards as u64 {
            return Err(Error::out_of_range(
                "max_weight",
                max_weight,
                format!("{shards}..=18446744073709551615 with {shards} shards"),
            ));
        }
        let evicted = {
            let mut limits = self.limits.lock();
            limits.max_weight = max_weight;
            self.resplit(|core, index| {
                core.set_max_weight(share(max_weight, shards, index), &self.hasher);
            })
        };
        self.notify(evicted);
        Ok(())
    }

    /// Applies a new split of the bounds to every shard in turn (the caller
    /// holds the `limits` lock, so splits do not interleave); returns what
    /// was evicted, for the listener once that lock is released.
    fn resplit(&self, set: impl Fn(&mut Core<K, V>, usize)) -> Vec<Evicted<K, V>> {
        let mut evicted = Vec::new();
        for (index, slot) in self.shards.iter().enumerate() {
            let mut shard = slot.lock.write();
            set(&mut shard.core, index);
            evicted.append(&mut shard.core.evicted);
        }
        evicted
    }

    /// The value under `key`; on a miss, `load()`'s value, inserted and
    /// returned. Concurrent callers for the same missing key run one loader
    /// between them (see the type's docs). `load` runs without any lock
    /// held; it must not ask this cache for the same key (it would wait for
    /// itself).
    ///
    /// If the value is [`Rejected`] for its weight it is returned but not
    /// cached.
    pub fn get_or_insert_with(&self, key: K, load: impl FnOnce() -> V) -> V
    where
        K: Clone,
        V: Clone,
    {
        match self.try_get_or_insert_with(key, || Ok::<V, Infallible>(load())) {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with) with a loader
    /// that can fail.
    ///
    /// # Errors
    ///
    /// `load`'s error, when this caller's loader ran and failed. Callers
    /// that were waiting on it are not given the error: they look again,
    /// and one of them runs its own loader.
    pub fn try_get_or_insert_with<E>(
        &self,
        key: K,
        load: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        K: Clone,
        V: Clone,
    {
        let hash = self.hasher.hash_one(&key);
        let shard_lock = self.shard(hash);
        // Each round either returns or waits for a flight that has landed
        // as failed; every failure is a loader that ran, so this ends.
        loop {
            let mut shard = shard_lock.write();
            if let Some(i) = shard.core.lookup(hash, &key, &self.hasher) {
                shard.core.stats.hits += 1;
                let value = shard.core.value(i).clone();
                self.release(shard);
                return Ok(value);
            }
            let pending = shard
                .flights
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, flight)| Arc::clone(flight));
            if let Some(flight) = pending {
                self.release(shard);
                let landed = {
                    // Counted while waiting, whatever unwinds (the clone
                    // of the landed value is user code).
                    let _waiting = Waiting::enter(&self.waiting);
                    flight.wait()
                };
                if let Some(value) = landed {
                    self.served.fetch_add(1, Ordering::Relaxed);
                    return Ok(value);
                }
                continue;
            }
            // This caller loads. The flight is owned by `landing` before
            // anything can run user code (the listener, in `release`): if
            // anything from here on panics, its `Drop` unregisters the
            // flight and releases the waiters.
            shard.core.stats.misses += 1;
            let flight = Arc::new(Flight::new());
            shard.flights.push((key.clone(), Arc::clone(&flight)));
            let mut landing = Landing::new(shard_lock, flight);
            self.release(shard);
            landing.phase = Phase::Loading;
            let value = load()?;
            landing.phase = Phase::Loaded;
            let weight = self.weigher.weigh(&key, &value);
            let mut shard = shard_lock.write();
            // A rejected value is still returned; it is just not cached.
            let _ = shard.core.insert(
                hash,
                key,
                value.clone(),
                weight,
                Expiry::Default,
                &self.hasher,
            );
            // Land before the listener runs: a panicking listener then
            // reaches this caller only, the waiters have their value and
            // the load counts once, as a success.
            landing.land(&mut shard, Some(value.clone()));
            self.release(shard);
            return Ok(value);
        }
    }
}

/// One caller counted in `waiting` for as long as it lives.
struct Waiting<'a>(&'a AtomicU64);

impl<'a> Waiting<'a> {
    fn enter(waiting: &'a AtomicU64) -> Self {
        waiting.fetch_add(1, Ordering::Relaxed);
        Self(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<K, V, S, W> fmt::Debug for ConcurrentLru<K, V, S, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrentLru")
            .field("shards", &self.shards.len())
            .field("limits", &*self.limits.lock())
            .field("listener", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_add_up_to_the_total() {
        for total in [8usize, 9, 1000, 1001, 65_535] {
            for shards in [1usize, 2, 8, 64] {
                let sum: usize = (0..shards).map(|i| share(total, shards, i)).sum();
                assert_eq!(sum, total, "{total} over {shards}");
            }
        }
        let sum: u64 = (0..8).map(|i| share(u64::MAX - 3, 8, i)).sum();
        assert_eq!(sum, u64::MAX - 3);
    }
}
