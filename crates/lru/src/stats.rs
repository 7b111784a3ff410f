//! Exact statistics: the counters a cache keeps and the snapshot it hands
//! out.

/// Why an entry left the cache without the caller taking it out.
///
/// The eviction listener receives it with the key and value; the stats
/// count each cause separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum EvictionCause {
    /// Evicted as least recently used to keep `len() <= max_entries`.
    MaxEntries,
    /// Evicted as least recently used to keep `weight() <= max_weight`.
    MaxWeight,
    /// Its time to live ran out; reclaimed on access, on eviction or by
    /// `purge_expired`.
    Expired,
    /// Dropped by `clear` or `retain`.
    Explicit,
}

/// A snapshot of a cache's counters. Exact: every operation is counted once.
/// `LruCache` counts under its `&mut self`; `ConcurrentLru` counts writes
/// under the shard's write lock and the hits and misses of read-locked
/// lookups in per-shard atomics, summed when the snapshot is taken.
///
/// From an empty cache and with no [`reset_stats`](crate::LruCache::reset_stats)
/// since, `inserts == len + removals + evictions()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct CacheStats {
    /// Lookups that found a live entry (`get`, `get_mut`, and
    /// `get_or_insert_with` calls served without running their loader).
    pub hits: u64,
    /// Lookups that found nothing, or only an expired entry.
    pub misses: u64,
    /// Entries added under a new key.
    pub inserts: u64,
    /// Values replaced under an existing key.
    pub updates: u64,
    /// Inserts refused because the entry alone weighs more than `max_weight`.
    pub rejected: u64,
    /// Entries the caller took out: `remove`, `pop_lru`.
    pub removals: u64,
    /// Entries evicted to keep `max_entries`.
    pub evicted_max_entries: u64,
    /// Entries evicted to keep `max_weight`.
    pub evicted_max_weight: u64,
    /// Entries reclaimed after their time to live.
    pub expired: u64,
    /// Entries dropped by `clear` or `retain`.
    pub evicted_explicit: u64,
    /// Loader runs (`get_or_insert_with` on a miss) — concurrent form only.
    pub loads: u64,
    /// Loader runs that returned an error or panicked — concurrent form only.
    pub load_failures: u64,
    /// Callers waiting right now for another caller's loader — concurrent
    /// form only.
    pub waiting: u64,
    /// Entries held now (expired ones not yet reclaimed included).
    pub len: u64,
    /// Their total weight.
    pub weight: u64,
}

impl CacheStats {
    /// `hits + misses`.
    pub fn lookups(&self) -> u64 {
        self.hits + self.misses
    }

    /// Hits as a fraction of lookups, in `0.0..=1.0`; `0.0` before any
    /// lookup.
    pub fn hit_ratio(&self) -> f64 {
        match self.lookups() {
            0 => 0.0,
            n => self.hits as f64 / n as f64,
        }
    }

    /// Entries that left without the caller taking them: every cause.
    pub fn evictions(&self) -> u64 {
        self.evicted_max_entries + self.evicted_max_weight + self.expired + self.evicted_explicit
    }

    /// Adds `other`'s counts to these (used to sum shards).
    pub(crate) fn add(&mut self, other: &CacheStats) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.inserts += other.inserts;
        self.updates += other.updates;
        self.rejected += other.rejected;
        self.removals += other.removals;
        self.evicted_max_entries += other.evicted_max_entries;
        self.evicted_max_weight += other.evicted_max_weight;
        self.expired += other.expired;
        self.evicted_explicit += other.evicted_explicit;
        self.loads += other.loads;
        self.load_failures += other.load_failures;
        self.waiting += other.waiting;
        self.len += other.len;
        // Shards of a cache unbounded by weight may each hold up to
        // `u64::MAX`: the total saturates.
        self.weight = self.weight.saturating_add(other.weight);
    }

    /// Counts one eviction of `cause`.
    pub(crate) fn count_eviction(&mut self, cause: EvictionCause) {
        match cause {
            EvictionCause::MaxEntries => self.evicted_max_entries += 1,
            EvictionCause::MaxWeight => self.evicted_max_weight += 1,
            EvictionCause::Expired => self.expired += 1,
            EvictionCause::Explicit => self.evicted_explicit += 1,
        }
    }
}
