//! The engine both cache forms share: the hash index over the recency list,
//! both bounds, expiry and the counters. It is handed the hash of every key
//! (the concurrent form computes it once, outside its locks, to pick the
//! shard) and the hasher for the moments it must rehash a stored key.
//!
//! Entries that leave without the caller taking them are queued in
//! `evicted` — when someone listens — so the wrapper can hand them to the
//! listener after the cache is consistent (and, for the concurrent form,
//! after the shard's lock is released).

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::time::Duration;

use hashbrown::HashTable;

use crate::clock::Timer;
use crate::error::Rejected;
use crate::list::{List, MAX_NODES, NEVER, NIL, Node};
use crate::stats::{CacheStats, EvictionCause};

/// An entry that left, with why.
pub(crate) type Evicted<K, V> = (K, V, EvictionCause);

/// The concurrent form serves a hit on an entry already among the
/// `len / LAZY_FRACTION` most recently used of its shard under the read
/// lock, without moving it.
pub(crate) const LAZY_FRACTION: usize = 8;

/// What [`Core::probe`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    /// Live and recent: serve it as it is.
    Recent(u32),
    /// Live, but due for a move to the head (which needs the write lock).
    Stale(u32),
    /// Expired: reclaiming it needs the write lock.
    Expired,
    /// Not there.
    Missing,
}

/// How long a written entry lives.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expiry {
    /// The cache-wide time to live, if any.
    Default,
    /// This long, whatever the cache-wide setting.
    After(Duration),
}

/// Bounds and timing, as the builder validated them.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// At most this many entries (`MAX_NODES` when unbounded).
    pub(crate) max_entries: usize,
    /// At most this much weight (`u64::MAX` when unbounded).
    pub(crate) max_weight: u64,
    /// The cache-wide time to live.
    pub(crate) ttl: Option<Duration>,
}

#[derive(Debug)]
pub(crate) struct Core<K, V> {
    table: HashTable<u32>,
    list: List<K, V>,
    /// The entries' total weight. Wider than the bound (`u64`), so that an
    /// insert can add its weight before evicting back under the bound
    /// without overflowing, whatever the weights.
    weight: u128,
    limits: Limits,
    timer: Timer,
    /// Set once any entry got a deadline; until then no read asks the clock.
    uses_ttl: bool,
    /// Whether evicted entries are queued for a listener (else dropped).
    listening: bool,
    pub(crate) stats: CacheStats,
    pub(crate) evicted: Vec<Evicted<K, V>>,
}

impl<K, V> Core<K, V> {
    pub(crate) fn new(limits: Limits, timer: Timer, listening: bool) -> Self {
        Self {
            table: HashTable::new(),
            list: List::new(),
            weight: 0,
            limits,
            timer,
            uses_ttl: false,
            listening,
            stats: CacheStats::default(),
            evicted: Vec::new(),
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// The total weight: at most `max_weight` (a `u64`) between calls.
    #[inline]
    pub(crate) fn weight(&self) -> u64 {
        u64::try_from(self.weight).unwrap_or(u64::MAX)
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    #[inline]
    pub(crate) fn list(&self) -> &List<K, V> {
        &self.list
    }

    /// The time now, if any entry may carry a deadline (else `None`: nothing
    /// can be expired).
    pub(crate) fn now_if_ttl(&self) -> Option<u64> {
        self.uses_ttl.then(|| self.timer.now())
    }

    /// The counters, with the current size filled in.
    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            len: self.list.len() as u64,
            weight: self.weight(),
            ..self.stats
        }
    }

    pub(crate) fn reset_stats(&mut self) {
        self.stats = CacheStats::default();
    }

    /// Drops every entry as `Explicit`.
    pub(crate) fn clear(&mut self) {
        self.table.clear();
        self.weight = 0;
        let dropped = self.list.len() as u64;
        self.stats.evicted_explicit += dropped;
        if self.listening {
            let evicted = &mut self.evicted;
            evicted.extend(
                self.list
                    .drain()
                    .map(|n| (n.key, n.value, EvictionCause::Explicit)),
            );
        } else {
            self.list.drain();
        }
    }

    /// Whether slot `i` is expired now (asks the clock only when the entry
    /// has a deadline).
    #[inline]
    fn expired(&self, i: u32) -> bool {
        self.uses_ttl && {
            let node = self.list.node(i);
            node.deadline != NEVER && node.is_expired(self.timer.now())
        }
    }

    #[inline]
    pub(crate) fn value(&self, i: u32) -> &V {
        &self.list.node(i).value
    }

    #[inline]
    pub(crate) fn value_mut(&mut self, i: u32) -> &mut V {
        &mut self.list.node_mut(i).value
    }
}

impl<K: Hash + Eq, V> Core<K, V> {
    #[inline]
    fn find<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let list = &self.list;
        self.table
            .find(hash, |&i| list.key(i).borrow() == key)
            .copied()
    }

    /// Finds a live entry and makes it the most recently used; reclaims it
    /// instead when it is expired. Counts neither hit nor miss.
    #[inline]
    pub(crate) fn lookup<Q, S>(&mut self, hash: u64, key: &Q, hasher: &S) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
        S: BuildHasher,
    {
        let i = self.find_live(hash, key, hasher)?;
        self.list.move_to_front(i);
        Some(i)
    }

    /// Finds an entry; reclaims it instead when it is expired.
    #[inline]
    fn find_live<Q, S>(&mut self, hash: u64, key: &Q, hasher: &S) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
        S: BuildHasher,
    {
        let i = self.find(hash, key)?;
        if self.expired(i) {
            self.evict(i, hash, EvictionCause::Expired, hasher);
            return None;
        }
        Some(i)
    }

    /// What a reader holding only a read lock finds under `key`: a live
    /// entry already among the `len / LAZY_FRACTION` most recently used (to
    /// serve without moving it: moving it would barely change the order),
    /// a live entry due for promotion, an expired one, or nothing.
    #[inline]
    pub(crate) fn probe<Q>(&self, hash: u64, key: &Q) -> Probe
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let Some(i) = self.find(hash, key) else {
            return Probe::Missing;
        };
        if self.expired(i) {
            return Probe::Expired;
        }
        let window = (self.list.len() / LAZY_FRACTION) as u32;
        if self.list.is_recent(i, window) {
            Probe::Recent(i)
        } else {
            Probe::Stale(i)
        }
    }

    /// Finds a live entry without touching the order or the counters.
    #[inline]
    pub(crate) fn peek<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.find(hash, key).filter(|&i| !self.expired(i))
    }

    /// The deadline of an entry written now.
    fn deadline(&mut self, expiry: Expiry) -> u64 {
        let ttl = match expiry {
            Expiry::Default => self.limits.ttl,
            Expiry::After(ttl) => Some(ttl),
        };
        match ttl {
            None => NEVER,
            Some(ttl) => {
                self.uses_ttl = true;
                self.timer.deadline_after(ttl)
            }
        }
    }

    /// Writes `key → value`. Returns the live value it replaced, or refuses
    /// an entry heavier than `max_weight` and changes nothing.
    pub(crate) fn insert<S: BuildHasher>(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        weight: u64,
        expiry: Expiry,
        hasher: &S,
    ) -> Result<Option<V>, Rejected<K, V>> {
        if weight > self.limits.max_weight {
            self.stats.rejected += 1;
            return Err(Rejected {
                key,
                value,
                weight,
                max_weight: self.limits.max_weight,
            });
        }
        let deadline = self.deadline(expiry);
        if let Some(i) = self.find(hash, &key) {
            if self.expired(i) {
                // The old entry is gone as far as any reader knows: this
                // is a fresh insert.
                self.evict(i, hash, EvictionCause::Expired, hasher);
            } else {
                let node = self.list.node_mut(i);
                let old = std::mem::replace(&mut node.value, value);
                let old_weight = std::mem::replace(&mut node.weight, weight);
                node.deadline = deadline;
                self.weight = self.weight - u128::from(old_weight) + u128::from(weight);
                self.list.move_to_front(i);
                self.stats.updates += 1;
                self.evict_to_bounds(hasher);
                return Ok(Some(old));
            }
        }
        let node = Node::new(key, value, weight, deadline);
        let tail = self.list.tail();
        if self.list.len() >= self.limits.max_entries && tail != NIL {
            // Full by count: the least recently used entry makes room, and
            // its slot takes the new entry in place. Its key is hashed
            // before anything changes (or is counted), so a panicking
            // `Hash` leaves the cache and its counts as they were.
            let tail_hash = hasher.hash_one(self.list.key(tail));
            self.stats.inserts += 1;
            let cause = if self.expired(tail) {
                EvictionCause::Expired
            } else {
                EvictionCause::MaxEntries
            };
            if let Ok(entry) = self.table.find_entry(tail_hash, |&j| j == tail) {
                entry.remove();
            }
            let old = self.list.replace_in_place(tail, node);
            self.weight = self.weight - u128::from(old.weight) + u128::from(weight);
            let Self { table, list, .. } = self;
            table.insert_unique(hash, tail, |&j| hasher.hash_one(list.key(j)));
            self.retire(old, cause);
        } else {
            self.stats.inserts += 1;
            self.list.reserve_one(self.limits.max_entries);
            let i = self.list.push_front(node);
            self.weight += u128::from(weight);
            let Self { table, list, .. } = self;
            table.insert_unique(hash, i, |&j| hasher.hash_one(list.key(j)));
        }
        self.evict_to_bounds(hasher);
        Ok(None)
    }

    /// Takes out a live entry (an expired one is reclaimed and not returned).
    pub(crate) fn remove<Q, S>(&mut self, hash: u64, key: &Q, hasher: &S) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
        S: BuildHasher,
    {
        let i = self.find_live(hash, key, hasher)?;
        let node = self.remove_at(i, hash, hasher);
        self.stats.removals += 1;
        Some((node.key, node.value))
    }

    /// Takes out the least recently used live entry, reclaiming expired
    /// ones on the way.
    pub(crate) fn pop_lru<S: BuildHasher>(&mut self, hasher: &S) -> Option<(K, V)> {
        loop {
            let tail = self.list.tail();
            if tail == NIL {
                return None;
            }
            let hash = hasher.hash_one(self.list.key(tail));
            if self.expired(tail) {
                self.evict(tail, hash, EvictionCause::Expired, hasher);
                continue;
            }
            let node = self.remove_at(tail, hash, hasher);
            self.stats.removals += 1;
            return Some((node.key, node.value));
        }
    }

    /// Keeps the live entries for which `keep` says yes, visiting from least
    /// to most recently used; the rest leave as `Explicit`, expired ones as
    /// `Expired` (without being shown to `keep`).
    pub(crate) fn retain<S, F>(&mut self, mut keep: F, hasher: &S)
    where
        S: BuildHasher,
        F: FnMut(&K, &mut V) -> bool,
    {
        let now = self.now_if_ttl();
        let mut i = self.list.tail();
        while i != NIL {
            let mut prev = self.list.prev_of(i);
            let node = self.list.node_mut(i);
            let cause = if now.is_some_and(|now| node.is_expired(now)) {
                Some(EvictionCause::Expired)
            } else if keep(&node.key, &mut node.value) {
                None
            } else {
                Some(EvictionCause::Explicit)
            };
            if let Some(cause) = cause {
                let hash = hasher.hash_one(self.list.key(i));
                if self.evict(i, hash, cause, hasher) == Some(prev) {
                    // The node before `i` was the last slot: it is now `i`.
                    prev = i;
                }
            }
            i = prev;
        }
    }

    /// Reclaims every expired entry; returns how many.
    pub(crate) fn purge_expired<S: BuildHasher>(&mut self, hasher: &S) -> usize {
        let Some(now) = self.now_if_ttl() else {
            return 0;
        };
        let mut purged = 0;
        // From the last slot down: a removal moves the last slot (already
        // seen and kept) into the hole.
        for i in (0..self.list.len() as u32).rev() {
            if self.list.node(i).is_expired(now) {
                let hash = hasher.hash_one(self.list.key(i));
                self.evict(i, hash, EvictionCause::Expired, hasher);
                purged += 1;
            }
        }
        purged
    }

    pub(crate) fn set_max_entries<S: BuildHasher>(&mut self, max: usize, hasher: &S) {
        self.limits.max_entries = max.min(MAX_NODES);
        self.evict_to_bounds(hasher);
    }

    pub(crate) fn set_max_weight<S: BuildHasher>(&mut self, max: u64, hasher: &S) {
        self.limits.max_weight = max;
        self.evict_to_bounds(hasher);
    }

    /// Evicts least recently used entries until both bounds hold.
    #[inline]
    fn evict_to_bounds<S: BuildHasher>(&mut self, hasher: &S) {
        if self.list.len() <= self.limits.max_entries
            && self.weight <= u128::from(self.limits.max_weight)
        {
            return;
        }
        self.evict_over_bounds(hasher);
    }

    fn evict_over_bounds<S: BuildHasher>(&mut self, hasher: &S) {
        loop {
            let cause = if self.list.len() > self.limits.max_entries {
                EvictionCause::MaxEntries
            } else if self.weight > u128::from(self.limits.max_weight) {
                EvictionCause::MaxWeight
            } else {
                return;
            };
            let tail = self.list.tail();
            if tail == NIL {
                return;
            }
            let cause = if self.expired(tail) {
                EvictionCause::Expired
            } else {
                cause
            };
            let hash = hasher.hash_one(self.list.key(tail));
            self.evict(tail, hash, cause, hasher);
        }
    }

    /// Removes slot `i` (whose key hashes to `hash`) as evicted for `cause`.
    /// Returns the slot that moved into `i`, if any.
    fn evict<S: BuildHasher>(
        &mut self,
        i: u32,
        hash: u64,
        cause: EvictionCause,
        hasher: &S,
    ) -> Option<u32> {
        let last = (self.list.len() - 1) as u32;
        let node = self.remove_at(i, hash, hasher);
        self.retire(node, cause);
        (i != last).then_some(last)
    }

    /// Counts an evicted node and queues it for the listener (or drops it).
    fn retire(&mut self, node: Node<K, V>, cause: EvictionCause) {
        self.stats.count_eviction(cause);
        if self.listening {
            self.evicted.push((node.key, node.value, cause));
        }
    }

    /// Unindexes and unlinks slot `i`, whose key hashes to `hash`.
    fn remove_at<S: BuildHasher>(&mut self, i: u32, hash: u64, hasher: &S) -> Node<K, V> {
        let last = (self.list.len() - 1) as u32;
        // Hash the key that will move before changing anything, so a
        // panicking `Hash` leaves the cache as it was.
        let moved_hash = (i != last).then(|| hasher.hash_one(self.list.key(last)));
        if let Ok(entry) = self.table.find_entry(hash, |&j| j == i) {
            entry.remove();
        }
        let (node, moved) = self.list.swap_remove(i);
        if let (Some(from), Some(moved_hash)) = (moved, moved_hash)
            && let Some(slot) = self.table.find_mut(moved_hash, |&j| j == from)
        {
            *slot = i;
        }
        self.weight -= u128::from(node.weight);
        node
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;
    use std::sync::Arc;

    use super::*;
    use crate::clock::SystemClock;

    fn core(max_entries: usize, max_weight: u64) -> Core<u32, u32> {
        let limits = Limits {
            max_entries,
            max_weight,
            ttl: None,
        };
        Core::new(limits, Timer::new(Arc::new(SystemClock)), true)
    }

    /// Every index slot points at a node with its key, and back.
    fn check(core: &Core<u32, u32>, hasher: &impl BuildHasher) {
        assert_eq!(core.table.len(), core.list.len());
        for (i, node) in core.list.slots().iter().enumerate() {
            let found = core.find(hasher.hash_one(node.key), &node.key);
            assert_eq!(found, Some(i as u32));
        }
        let total: u128 = core.list.slots().iter().map(|n| u128::from(n.weight)).sum();
        assert_eq!(core.weight, total);
    }

    #[test]
    fn index_follows_moved_slots() {
        let hasher = hashbrown::DefaultHashBuilder::default();
        let mut c = core(8, u64::MAX);
        for k in 0..8 {
            let h = hasher.hash_one(k);
            assert!(matches!(
                c.insert(h, k, k, 1, Expiry::Default, &hasher),
                Ok(None)
            ));
        }
        check(&c, &hasher);
        assert_eq!(c.remove(hasher.hash_one(2), &2, &hasher), Some((2, 2)));
        check(&c, &hasher);
        c.retain(|k, _| k % 2 == 0, &hasher);
        check(&c, &hasher);
        assert_eq!(c.len(), 3);
        assert_eq!(c.evicted.len(), 4);
        c.set_max_entries(1, &hasher);
        check(&c, &hasher);
        assert_eq!(c.len(), 1);
    }
}
