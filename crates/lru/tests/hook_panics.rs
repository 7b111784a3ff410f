//! Every user hook may panic — weigher, clock, key `Hash`/`Eq`, `retain`'s
//! predicate, the eviction listener, the loader: the panic reaches the
//! caller, the cache stays usable, and its counts stay exact
//! (`inserts == len + removals + evictions()`, `weight()` the sum of what
//! is held).

use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use perfect21_lru::{CacheStats, Clock, ConcurrentLru, LruCache, ManualClock};

/// The stats agree with what the cache holds (`held`: key and weight).
fn consistent(stats: &CacheStats, held: &[(u32, u64)]) {
    assert_eq!(stats.len, held.len() as u64);
    assert_eq!(stats.weight, held.iter().map(|(_, w)| w).sum::<u64>());
    assert_eq!(
        stats.inserts,
        stats.len + stats.removals + stats.evictions(),
        "{stats:?}"
    );
}

/// Key and weight of each entry held, most recent first, for caches whose
/// weigher is `weight_of`.
fn held<W: perfect21_lru::Weigher<u32, u64>>(
    cache: &LruCache<u32, u64, perfect21_lru::DefaultHashBuilder, W>,
    weight_of: impl Fn(u64) -> u64,
) -> Vec<(u32, u64)> {
    cache.iter().map(|(k, v)| (*k, weight_of(*v))).collect()
}

fn by_value(v: u64) -> u64 {
    v
}

fn unit(_: u64) -> u64 {
    1
}

#[test]
fn a_panicking_weigher_changes_nothing() {
    let mut cache = LruCache::builder()
        .max_weight(100)
        .weigher(|_k: &u32, v: &u64| {
            assert!(*v != 13, "weigher fails on 13");
            *v
        })
        .build()
        .unwrap();
    cache.insert(1, 10).unwrap();
    cache.insert(2, 20).unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| cache.insert(3, 13))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| cache.insert(1, 13))).is_err());
    assert_eq!(held(&cache, by_value), [(2, 20), (1, 10)]);
    consistent(&cache.stats(), &held(&cache, by_value));
    cache.insert(3, 30).unwrap();
    assert_eq!(cache.weight(), 60);

    let concurrent = ConcurrentLru::builder()
        .max_weight(100)
        .shards(1)
        .weigher(|_k: &u32, v: &u64| {
            assert!(*v != 13, "weigher fails on 13");
            *v
        })
        .build()
        .unwrap();
    concurrent.insert(1, 10).unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| concurrent.insert(2, 13))).is_err());
    assert_eq!((concurrent.len(), concurrent.weight()), (1, 10));
    concurrent.insert(2, 20).unwrap();
    assert_eq!(concurrent.stats().inserts, 2);
}

/// A clock that panics while `failing` is set.
#[derive(Clone)]
struct FlakyClock {
    inner: ManualClock,
    failing: Arc<AtomicBool>,
}

impl Clock for FlakyClock {
    fn now(&self) -> Instant {
        assert!(!self.failing.load(Ordering::SeqCst), "clock fails");
        self.inner.now()
    }
}

#[test]
fn a_panicking_clock_changes_nothing() {
    let clock = FlakyClock {
        inner: ManualClock::new(),
        failing: Arc::default(),
    };
    let mut cache = LruCache::builder()
        .max_entries(2)
        .time_to_live(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert(1, 1).unwrap();
    cache.insert(2, 2).unwrap();
    clock.failing.store(true, Ordering::SeqCst);
    assert!(catch_unwind(AssertUnwindSafe(|| cache.insert(3, 3))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| cache.get(&1).copied())).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| cache.purge_expired())).is_err());
    clock.failing.store(false, Ordering::SeqCst);
    assert_eq!(
        cache.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
        [(2, 2), (1, 1)]
    );
    let stats = cache.stats();
    consistent(&stats, &held(&cache, unit));
    clock.inner.advance(Duration::from_secs(11));
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.purge_expired(), 1);
    assert!(cache.is_empty());
    consistent(&cache.stats(), &[]);
}

/// A key whose `Hash` panics when asked to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Touchy(u32);

static HASH_FAILS: AtomicBool = AtomicBool::new(false);

impl Hash for Touchy {
    fn hash<H: Hasher>(&self, state: &mut H) {
        assert!(
            !(HASH_FAILS.load(Ordering::SeqCst) && self.0 == 7),
            "hash fails on 7"
        );
        self.0.hash(state);
    }
}

#[test]
fn a_panicking_key_hash_changes_nothing() {
    let mut cache: LruCache<Touchy, u32> = LruCache::builder().max_entries(2).build().unwrap();
    cache.insert(Touchy(7), 7).unwrap();
    cache.insert(Touchy(8), 8).unwrap();
    HASH_FAILS.store(true, Ordering::SeqCst);
    // Evicting 7 (the LRU) must rehash it: the insert fails before any change.
    let outcome = catch_unwind(AssertUnwindSafe(|| cache.insert(Touchy(9), 9)));
    HASH_FAILS.store(false, Ordering::SeqCst);
    assert!(outcome.is_err());
    let keys: Vec<u32> = cache.iter().map(|(k, _)| k.0).collect();
    assert_eq!(keys, [8, 7]);
    let stats = cache.stats();
    assert_eq!(
        stats.inserts,
        stats.len + stats.removals + stats.evictions()
    );
    cache.insert(Touchy(9), 9).unwrap();
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.peek(&Touchy(9)), Some(&9));
}

#[test]
fn a_panicking_retain_predicate_leaves_the_cache_consistent() {
    let mut cache = LruCache::builder().max_entries(10).build().unwrap();
    for k in 0..10u32 {
        cache.insert(k, u64::from(k)).unwrap();
    }
    // Visits from least recently used: drops 0..=2, panics at 5.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        cache.retain(|k, _| {
            assert!(*k != 5, "predicate fails on 5");
            *k > 2
        });
    }));
    assert!(outcome.is_err());
    assert_eq!(cache.len(), 7);
    consistent(&cache.stats(), &held(&cache, unit));
    assert_eq!(cache.stats().evicted_explicit, 3);

    let concurrent = ConcurrentLru::builder()
        .max_entries(64)
        .shards(1)
        .build()
        .unwrap();
    for k in 0..10u32 {
        concurrent.insert(k, u64::from(k)).unwrap();
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        concurrent.retain(|k, _| {
            assert!(*k != 5, "predicate fails on 5");
            *k > 2
        });
    }));
    assert!(outcome.is_err());
    assert_eq!(concurrent.len(), 7);
    let stats = concurrent.stats();
    assert_eq!(stats.inserts, stats.len + stats.evictions());
    concurrent.insert(100, 1).unwrap();
    assert_eq!(
        concurrent.get(&100),
        Some(1),
        "the shard's lock was released"
    );
}
