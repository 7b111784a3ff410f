//! [`LruCache`]: the single-threaded, exact-LRU form.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::num::NonZeroUsize;
use std::time::Duration;

use hashbrown::DefaultHashBuilder;

use crate::builder::{Listener, LruCacheBuilder, Options};
use crate::core::{Core, Expiry, Limits};
use crate::error::{Error, Rejected};
use crate::iter::Iter;
use crate::list::MAX_NODES;
use crate::stats::CacheStats;
use crate::weigher::{UnitWeigher, Weigher};

/// A least-recently-used cache bounded by entry count and by weight, both
/// strictly, with optional expiry and exact statistics.
///
/// Every operation is O(1) except `retain`, `purge_expired` and `clear`
/// (O(n)). After every call, `len() <= max_entries` and
/// `weight() <= max_weight`. Reads never return an expired entry.
///
/// ```
/// use std::num::NonZeroUsize;
/// use perfect21_lru::LruCache;
///
/// let mut cache = LruCache::new(NonZeroUsize::new(2).unwrap());
/// cache.insert("a", 1).ok();
/// cache.insert("b", 2).ok();
/// assert_eq!(cache.get("a"), Some(&1)); // "a" is now the most recent
/// cache.insert("c", 3).ok(); // evicts "b", the least recently used
/// assert_eq!(cache.peek("b"), None);
/// assert_eq!(cache.iter().map(|(k, _)| *k).collect::<Vec<_>>(), ["c", "a"]);
/// ```
pub struct LruCache<K, V, S = DefaultHashBuilder, W = UnitWeigher> {
    core: Core<K, V>,
    hasher: S,
    weigher: W,
    listener: Option<Listener<K, V>>,
}

impl<K: Hash + Eq, V> LruCache<K, V> {
    /// A cache of at most `max_entries` entries (capped at 4 294 967 294),
    /// with the default hasher and no weight bound, expiry or listener.
    pub fn new(max_entries: NonZeroUsize) -> Self {
        let options = Options::<K, V, _, _>::new();
        let limits = Limits {
            max_entries: max_entries.get().min(MAX_NODES),
            max_weight: u64::MAX,
            ttl: None,
        };
        Self::from_options(options, limits)
    }
}

impl<K, V> LruCache<K, V> {
    /// A builder for every option: bounds, weigher, time to live, clock,
    /// hasher, eviction listener.
    pub fn builder() -> LruCacheBuilder<K, V> {
        LruCacheBuilder::new()
    }
}

impl<K, V, S, W> LruCache<K, V, S, W> {
    pub(crate) fn from_options(options: Options<K, V, S, W>, limits: Limits) -> Self {
        let timer = options.timer();
        Self {
            core: Core::new(limits, timer, options.listener.is_some()),
            hasher: options.hasher,
            weigher: options.weigher,
            listener: options.listener,
        }
    }
}

impl<K, V, S, W> LruCache<K, V, S, W>
where
    K: Hash + Eq,
    S: BuildHasher,
    W: Weigher<K, V>,
{
    /// The value under `key`, made the most recently used. Counts a hit or
    /// a miss; an expired entry is reclaimed and is a miss.
    #[inline]
    pub fn get<Q>(&mut self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let i = self.lookup(key)?;
        Some(self.core.value(i))
    }

    /// Like [`get`](Self::get), mutably. The entry keeps the weight it was
    /// inserted with: re-insert to re-weigh.
    #[inline]
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let i = self.lookup(key)?;
        Some(self.core.value_mut(i))
    }

    #[inline]
    fn lookup<Q>(&mut self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        match self.core.lookup(hash, key, &self.hasher) {
            Some(i) => {
                self.core.stats.hits += 1;
                Some(i)
            }
            None => {
                self.core.stats.misses += 1;
                self.notify();
                None
            }
        }
    }

    /// The value under `key`, without changing the order or the counters.
    #[inline]
    pub fn peek<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let i = self.core.peek(self.hasher.hash_one(key), key)?;
        Some(self.core.value(i))
    }

    /// Whether a live entry is under `key` (order and counters unchanged).
    #[inline]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.peek(key).is_some()
    }

    /// Writes `key → value` as the most recently used entry, evicting least
    /// recently used ones until both bounds hold. Returns the live value it
    /// replaced.
    ///
    /// # Errors
    ///
    /// [`Rejected`], with the key and value, when the entry alone weighs
    /// more than `max_weight`; the cache is then unchanged.
    pub fn insert(&mut self, key: K, value: V) -> Result<Option<V>, Rejected<K, V>> {
        self.write(key, value, Expiry::Default)
    }

    /// Like [`insert`](Self::insert), but the entry expires after `ttl`
    /// whatever the cache-wide time to live.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert).
    pub fn insert_with_ttl(
        &mut self,
        key: K,
        value: V,
        ttl: Duration,
    ) -> Result<Option<V>, Rejected<K, V>> {
        self.write(key, value, Expiry::After(ttl))
    }

    fn write(&mut self, key: K, value: V, expiry: Expiry) -> Result<Option<V>, Rejected<K, V>> {
        let weight = self.weigher.weigh(&key, &value);
        let hash = self.hasher.hash_one(&key);
        let result = self
            .core
            .insert(hash, key, value, weight, expiry, &self.hasher);
        self.notify();
        result
    }

    /// Takes the live entry under `key` out and returns its value.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Takes the live entry under `key` out and returns it.
    pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let entry = self.core.remove(hash, key, &self.hasher);
        self.notify();
        entry
    }

    /// Takes the least recently used live entry out.
    pub fn pop_lru(&mut self) -> Option<(K, V)> {
        let entry = self.core.pop_lru(&self.hasher);
        self.notify();
        entry
    }

    /// Keeps only the entries for which `keep` returns `true`, visiting
    /// from least to most recently used; the others go to the listener as
    /// [`Explicit`](crate::EvictionCause::Explicit). Order is unchanged.
    pub fn retain(&mut self, keep: impl FnMut(&K, &mut V) -> bool) {
        self.core.retain(keep, &self.hasher);
        self.notify();
    }

    /// Reclaims every expired entry now (they are otherwise reclaimed when
    /// met); returns how many. O(n).
    pub fn purge_expired(&mut self) -> usize {
        let purged = self.core.purge_expired(&self.hasher);
        self.notify();
        purged
    }

    /// Changes the entry bound, evicting least recently used entries down to
    /// it before returning.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfRange`] unless `1 <= max_entries <= 4294967294`.
    pub fn set_max_entries(&mut self, max_entries: usize) -> Result<(), Error> {
        if !(1..=MAX_NODES).contains(&max_entries) {
            return Err(Error::out_of_range(
                "max_entries",
                max_entries,
                crate::builder::MAX_ENTRIES_RANGE,
            ));
        }
        self.core.set_max_entries(max_entries, &self.hasher);
        self.notify();
        Ok(())
    }

    /// Changes the weight bound, evicting least recently used entries down
    /// to it before returning.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfRange`] if `max_weight` is 0.
    pub fn set_max_weight(&mut self, max_weight: u64) -> Result<(), Error> {
        if max_weight == 0 {
            return Err(Error::out_of_range(
                "max_weight",
                0,
                "1..=18446744073709551615",
            ));
        }
        self.core.set_max_weight(max_weight, &self.hasher);
        self.notify();
        Ok(())
    }

    /// Hands queued evictions to the listener, now that the cache is
    /// consistent. If the listener panics, the rest of this batch is
    /// dropped unseen; the cache itself is unaffected.
    #[inline]
    fn notify(&mut self) {
        if self.core.evicted.is_empty() {
            return;
        }
        let mut batch = std::mem::take(&mut self.core.evicted);
        if let Some(listener) = &self.listener {
            for (key, value, cause) in batch.drain(..) {
                listener(key, value, cause);
            }
        }
        batch.clear();
        self.core.evicted = batch;
    }
}

impl<K: Hash + Eq, V, S, W> LruCache<K, V, S, W> {
    /// Entries held (expired ones not yet reclaimed included).
    #[inline]
    pub fn len(&self) -> usize {
        self.core.len()
    }

    /// Whether no entry is held.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.core.len() == 0
    }

    /// The total weight of the entries held.
    #[inline]
    pub fn weight(&self) -> u64 {
        self.core.weight()
    }

    /// The entry bound; `None` when only the weight is bounded.
    pub fn max_entries(&self) -> Option<usize> {
        let max = self.core.limits().max_entries;
        (max != MAX_NODES).then_some(max)
    }

    /// The weight bound; `None` when only the count is bounded.
    pub fn max_weight(&self) -> Option<u64> {
        let max = self.core.limits().max_weight;
        (max != u64::MAX).then_some(max)
    }

    /// The live entries, most recently used first (`.rev()` for least
    /// recently used first). Order and counters are unchanged.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter::new(self.core.list(), self.core.now_if_ttl())
    }

    /// Drops every entry; each goes to the listener as
    /// [`Explicit`](crate::EvictionCause::Explicit).
    pub fn clear(&mut self) {
        self.core.clear();
        if let Some(listener) = &self.listener {
            for (key, value, cause) in self.core.evicted.drain(..) {
                listener(key, value, cause);
            }
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> CacheStats {
        self.core.stats()
    }

    /// Zeroes the counters (`len` and `weight` stay what they are).
    pub fn reset_stats(&mut self) {
        self.core.reset_stats();
    }
}

impl<'a, K: Hash + Eq, V, S, W> IntoIterator for &'a LruCache<K, V, S, W> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K, V, S, W> fmt::Debug for LruCache<K, V, S, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LruCache")
            .field("len", &self.core.list().len())
            .field("weight", &self.core.weight())
            .field("limits", self.core.limits())
            .field("listener", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}
