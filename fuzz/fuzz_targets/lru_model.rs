//! `LruCache` against a reference model: a `Vec` in recency order, most
//! recent first, with weights and deadlines. Every operation — lookups,
//! writes with and without a time to live, removals, `retain`, `clear`,
//! `purge_expired`, bound changes, time moving on a manual clock — is
//! applied to both, and after each one the return values, the live entries
//! in order, `len`, `weight`, every counter and what the listener heard
//! must agree. The listener and the weigher panic on chosen values: the
//! panic must reach the caller and change nothing the model does not.
#![no_main]

use std::cell::{Cell, RefCell};
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use perfect21_lru::{CacheStats, EvictionCause, LruCache, ManualClock};

/// A weight the weigher refuses with a panic.
const POISON_WEIGHT: u8 = 0xEE;

#[derive(Debug, Arbitrary)]
enum Op {
    Get(u8),
    GetMut(u8, u8),
    Peek(u8),
    Insert(u8, u8),
    InsertTtl(u8, u8, u8),
    Remove(u8),
    PopLru,
    Retain(u8),
    Clear,
    PurgeExpired,
    Advance(u8),
    SetMaxEntries(u8),
    SetMaxWeight(u16),
    /// The listener panics on this key from now on (`None`: never).
    ListenerPanicsOn(Option<u8>),
}

#[derive(Debug, Arbitrary)]
struct Input {
    max_entries: u8,
    max_weight: u16,
    ttl: Option<u8>,
    ops: Vec<Op>,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    key: u8,
    value: u8,
    weight: u64,
    /// Nanoseconds on the manual clock; `None`: never expires.
    deadline: Option<u64>,
}

/// The reference: an exact LRU with both bounds and expiry, written for
/// obviousness, not speed.
struct Model {
    entries: Vec<Entry>,
    max_entries: usize,
    max_weight: u64,
    ttl: Option<u64>,
    now: u64,
    stats: CacheStats,
    evicted: Vec<(u8, u8, EvictionCause)>,
}

fn weight_of(value: u8) -> u64 {
    u64::from(value % 16) + 1
}

impl Model {
    fn expired(&self, i: usize) -> bool {
        self.entries[i].deadline.is_some_and(|d| self.now >= d)
    }

    fn position(&self, key: u8) -> Option<usize> {
        self.entries.iter().position(|e| e.key == key)
    }

    fn weight(&self) -> u64 {
        self.entries.iter().map(|e| e.weight).sum()
    }

    fn evict(&mut self, i: usize, cause: EvictionCause) {
        let e = self.entries.remove(i);
        match cause {
            EvictionCause::MaxEntries => self.stats.evicted_max_entries += 1,
            EvictionCause::MaxWeight => self.stats.evicted_max_weight += 1,
            EvictionCause::Expired => self.stats.expired += 1,
            _ => self.stats.evicted_explicit += 1,
        }
        self.evicted.push((e.key, e.value, cause));
    }

    /// The live entry under `key`; an expired one is reclaimed.
    fn find_live(&mut self, key: u8) -> Option<usize> {
        let i = self.position(key)?;
        if self.expired(i) {
            self.evict(i, EvictionCause::Expired);
            return None;
        }
        Some(i)
    }

    fn to_front(&mut self, i: usize) -> usize {
        let e = self.entries.remove(i);
        self.entries.insert(0, e);
        0
    }

    fn evict_to_bounds(&mut self) {
        loop {
            let cause = if self.entries.len() > self.max_entries {
                EvictionCause::MaxEntries
            } else if self.weight() > self.max_weight {
                EvictionCause::MaxWeight
            } else {
                return;
            };
            let tail = self.entries.len() - 1;
            let cause = if self.expired(tail) {
                EvictionCause::Expired
            } else {
                cause
            };
            self.evict(tail, cause);
        }
    }

    fn get(&mut self, key: u8) -> Option<u8> {
        match self.find_live(key) {
            Some(i) => {
                self.stats.hits += 1;
                let i = self.to_front(i);
                Some(self.entries[i].value)
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    fn peek(&self, key: u8) -> Option<u8> {
        let i = self.position(key)?;
        (!self.expired(i)).then(|| self.entries[i].value)
    }

    fn insert(&mut self, key: u8, value: u8, ttl: Option<u64>) -> Result<Option<u8>, ()> {
        let weight = weight_of(value);
        if weight > self.max_weight {
            self.stats.rejected += 1;
            return Err(());
        }
        let deadline = ttl.map(|t| self.now + t);
        if let Some(i) = self.position(key) {
            if self.expired(i) {
                self.evict(i, EvictionCause::Expired);
            } else {
                let old = std::mem::replace(
                    &mut self.entries[i],
                    Entry {
                        key,
                        value,
                        weight,
                        deadline,
                    },
                );
                self.to_front(i);
                self.stats.updates += 1;
                self.evict_to_bounds();
                return Ok(Some(old.value));
            }
        }
        self.stats.inserts += 1;
        if self.entries.len() >= self.max_entries && !self.entries.is_empty() {
            let tail = self.entries.len() - 1;
            let cause = if self.expired(tail) {
                EvictionCause::Expired
            } else {
                EvictionCause::MaxEntries
            };
            self.evict(tail, cause);
        }
        self.entries.insert(
            0,
            Entry {
                key,
                value,
                weight,
                deadline,
            },
        );
        self.evict_to_bounds();
        Ok(None)
    }

    fn remove(&mut self, key: u8) -> Option<u8> {
        let i = self.find_live(key)?;
        self.stats.removals += 1;
        Some(self.entries.remove(i).value)
    }

    fn pop_lru(&mut self) -> Option<(u8, u8)> {
        while let Some(tail) = self.entries.len().checked_sub(1) {
            if self.expired(tail) {
                self.evict(tail, EvictionCause::Expired);
                continue;
            }
            self.stats.removals += 1;
            let e = self.entries.remove(tail);
            return Some((e.key, e.value));
        }
        None
    }

    /// Keeps the entries whose key has its bit set in `mask`.
    fn retain(&mut self, mask: u8) {
        for i in (0..self.entries.len()).rev() {
            if self.expired(i) {
                self.evict(i, EvictionCause::Expired);
            } else if !keeps(mask, self.entries[i].key) {
                self.evict(i, EvictionCause::Explicit);
            }
        }
    }

    fn clear(&mut self) {
        while !self.entries.is_empty() {
            self.evict(0, EvictionCause::Explicit);
        }
    }

    fn purge_expired(&mut self) -> usize {
        let mut purged = 0;
        for i in (0..self.entries.len()).rev() {
            if self.expired(i) {
                self.evict(i, EvictionCause::Expired);
                purged += 1;
            }
        }
        purged
    }

    fn live(&self) -> Vec<(u8, u8)> {
        (0..self.entries.len())
            .filter(|&i| !self.expired(i))
            .map(|i| (self.entries[i].key, self.entries[i].value))
            .collect()
    }
}

fn keeps(mask: u8, key: u8) -> bool {
    mask & (1 << (key % 8)) != 0
}

fn ttl_nanos(ttl: u8) -> u64 {
    u64::from(ttl) * 1_000
}

/// What an operation returned, for comparing the cache with the model.
#[derive(Debug, PartialEq)]
enum Out {
    Done,
    Value(Option<u8>),
    Written(Result<Option<u8>, ()>),
    Popped(Option<(u8, u8)>),
    Count(usize),
    /// The weigher refuses the value: the call panics, nothing changes.
    WeigherPanics,
}

impl Model {
    /// Applies `op`; what the cache must return.
    fn apply(&mut self, op: &Op) -> Out {
        match *op {
            Op::Get(k) => Out::Value(self.get(k)),
            Op::GetMut(k, high) => {
                let old = self.get(k);
                if old.is_some() {
                    self.entries[0].value = same_weight(self.entries[0].value, high);
                }
                Out::Value(old)
            }
            Op::Peek(k) => Out::Value(self.peek(k)),
            Op::Insert(_, v) | Op::InsertTtl(_, v, _) if v == POISON_WEIGHT => Out::WeigherPanics,
            Op::Insert(k, v) => Out::Written(self.insert(k, v, self.ttl)),
            Op::InsertTtl(k, v, t) => Out::Written(self.insert(k, v, Some(ttl_nanos(t)))),
            Op::Remove(k) => Out::Value(self.remove(k)),
            Op::PopLru => Out::Popped(self.pop_lru()),
            Op::Retain(mask) => {
                self.retain(mask);
                Out::Done
            }
            Op::Clear => {
                self.clear();
                Out::Done
            }
            Op::PurgeExpired => Out::Count(self.purge_expired()),
            Op::Advance(by) => {
                self.now += ttl_nanos(by) / 2;
                Out::Done
            }
            Op::SetMaxEntries(n) => {
                self.max_entries = entries_bound(n);
                self.evict_to_bounds();
                Out::Done
            }
            Op::SetMaxWeight(w) => {
                self.max_weight = weight_bound(w);
                self.evict_to_bounds();
                Out::Done
            }
            Op::ListenerPanicsOn(_) => Out::Done,
        }
    }
}

type Cache = LruCache<u8, u8, perfect21_lru::DefaultHashBuilder, fn(&u8, &u8) -> u64>;

/// Applies `op` to the cache.
fn apply(cache: &mut Cache, clock: &ManualClock, op: &Op) -> Out {
    match *op {
        Op::Get(k) => Out::Value(cache.get(&k).copied()),
        Op::GetMut(k, high) => Out::Value(cache.get_mut(&k).map(|slot| {
            let old = *slot;
            *slot = same_weight(old, high);
            old
        })),
        Op::Peek(k) => Out::Value(cache.peek(&k).copied()),
        Op::Insert(k, v) => Out::Written(written(cache.insert(k, v), k, v)),
        Op::InsertTtl(k, v, t) => Out::Written(written(
            cache.insert_with_ttl(k, v, Duration::from_nanos(ttl_nanos(t))),
            k,
            v,
        )),
        Op::Remove(k) => Out::Value(cache.remove(&k)),
        Op::PopLru => Out::Popped(cache.pop_lru()),
        Op::Retain(mask) => {
            cache.retain(|k, _| keeps(mask, *k));
            Out::Done
        }
        Op::Clear => {
            cache.clear();
            Out::Done
        }
        Op::PurgeExpired => Out::Count(cache.purge_expired()),
        Op::Advance(by) => {
            clock.advance(Duration::from_nanos(ttl_nanos(by) / 2));
            Out::Done
        }
        Op::SetMaxEntries(n) => {
            cache.set_max_entries(entries_bound(n)).expect("in range");
            Out::Done
        }
        Op::SetMaxWeight(w) => {
            cache.set_max_weight(weight_bound(w)).expect("in range");
            Out::Done
        }
        Op::ListenerPanicsOn(k) => {
            PANIC_ON.set(k);
            Out::Done
        }
    }
}

/// A rejected entry comes back whole.
fn written(
    result: Result<Option<u8>, perfect21_lru::Rejected<u8, u8>>,
    k: u8,
    v: u8,
) -> Result<Option<u8>, ()> {
    result.map_err(|rejected| assert_eq!((rejected.key, rejected.value), (k, v)))
}

/// A value of the same weight as `old`, with other high bits.
fn same_weight(old: u8, high: u8) -> u8 {
    (high & 0xF0) | (old & 0x0F)
}

fn entries_bound(n: u8) -> usize {
    usize::from(n % 32).max(1)
}

fn weight_bound(w: u16) -> u64 {
    u64::from(w % 256).max(1)
}

fn weigh(_k: &u8, v: &u8) -> u64 {
    assert!(*v != POISON_WEIGHT, "weigher refuses {v}");
    weight_of(*v)
}

thread_local! {
    static HEARD: RefCell<Vec<(u8, u8, EvictionCause)>> = const { RefCell::new(Vec::new()) };
    static PANIC_ON: Cell<Option<u8>> = const { Cell::new(None) };
}

fuzz_target!(|input: Input| {
    if input.ops.len() > 512 {
        return;
    }
    perfect21_fuzz::let_expected_panics_unwind(perfect21_fuzz::none_outside_guarded);
    HEARD.with_borrow_mut(Vec::clear);
    PANIC_ON.set(None);
    let max_entries = entries_bound(input.max_entries);
    let max_weight = weight_bound(input.max_weight);
    let ttl = input.ttl.map(|t| ttl_nanos(t.max(1)));
    let clock = ManualClock::new();
    let mut builder = LruCache::builder()
        .max_entries(max_entries)
        .max_weight(max_weight)
        .clock(clock.clone())
        .weigher(weigh as fn(&u8, &u8) -> u64)
        .eviction_listener(|k: u8, v: u8, cause| {
            HEARD.with_borrow_mut(|heard| heard.push((k, v, cause)));
            assert!(PANIC_ON.get() != Some(k), "listener refuses key {k}");
        });
    if let Some(ttl) = ttl {
        builder = builder.time_to_live(Duration::from_nanos(ttl));
    }
    let mut cache: Cache = builder.build().expect("valid options");
    let mut model = Model {
        entries: Vec::new(),
        max_entries,
        max_weight,
        ttl,
        now: 0,
        stats: CacheStats::default(),
        evicted: Vec::new(),
    };

    for op in &input.ops {
        HEARD.with_borrow_mut(Vec::clear);
        model.evicted.clear();
        let expected = model.apply(op);
        let actual = perfect21_fuzz::guarded(|| apply(&mut cache, &clock, op));
        let heard = HEARD.with_borrow(Clone::clone);
        match actual {
            Ok(actual) => {
                assert_eq!(actual, expected, "{op:?}");
                // The same evictions; `purge_expired` and `clear` visit in
                // storage order, so compare as multisets.
                let (mut heard, mut evicted) = (heard, model.evicted.clone());
                heard.sort_by_key(|e| (e.0, e.1));
                evicted.sort_by_key(|e| (e.0, e.1));
                assert_eq!(heard, evicted, "evictions of {op:?}");
            }
            Err(_) if expected == Out::WeigherPanics => {
                assert!(heard.is_empty(), "the weigher runs before any change");
            }
            Err(panic) => {
                // Only the listener may panic: the operation completed,
                // the listener saw a prefix of its evictions ending with
                // the refused key, and the rest went unseen.
                if heard.last().map(|e| e.0) != PANIC_ON.get() || heard.is_empty() {
                    std::panic::resume_unwind(panic);
                }
                for event in &heard {
                    assert!(
                        model.evicted.contains(event),
                        "unexpected eviction {event:?}"
                    );
                }
            }
        }
        let live: Vec<(u8, u8)> = cache.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(live, model.live(), "live entries after {op:?}");
        assert_eq!(cache.len(), model.entries.len());
        assert_eq!(cache.weight(), model.weight());
        assert!(cache.len() <= model.max_entries);
        assert!(cache.weight() <= model.max_weight);
        let mut expected = model.stats;
        expected.len = model.entries.len() as u64;
        expected.weight = model.weight();
        assert_eq!(cache.stats(), expected, "stats after {op:?}");
    }
});
