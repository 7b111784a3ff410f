//! The eviction listener: called exactly once per entry that leaves without
//! the caller taking it, with the right cause, after the cache is
//! consistent; a panicking listener corrupts nothing; the concurrent
//! form's listener may call back into the cache.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use perfect21_lru::{ConcurrentLru, EvictionCause, LruCache};

type Heard = Arc<Mutex<Vec<(u32, u32, EvictionCause)>>>;

fn recorder() -> (
    Heard,
    impl Fn(u32, u32, EvictionCause) + Send + Sync + 'static,
) {
    let heard: Heard = Arc::default();
    let sink = Arc::clone(&heard);
    (heard, move |k, v, c| sink.lock().unwrap().push((k, v, c)))
}

#[test]
fn each_cause_is_reported_once() {
    let (heard, listener) = recorder();
    let mut cache = LruCache::builder()
        .max_entries(3)
        .max_weight(10)
        .weigher(|_k: &u32, v: &u32| u64::from(*v))
        .eviction_listener(listener)
        .build()
        .unwrap();
    cache.insert(1, 1).unwrap();
    cache.insert(2, 1).unwrap();
    cache.insert(3, 1).unwrap();
    cache.insert(4, 1).unwrap(); // count: 1 leaves
    // Full by count: 2 makes room; then 3 + 1 + 9 > 10, so 3 leaves for weight.
    cache.insert(5, 9).unwrap();
    assert_eq!(cache.remove(&5), Some(9)); // taken by the caller: not reported
    assert_eq!(cache.insert(4, 2).unwrap(), Some(1)); // replaced: returned, not reported
    cache.insert(6, 1).unwrap();
    cache.retain(|k, _| *k != 6); // explicit
    cache.insert(7, 1).unwrap();
    cache.clear(); // explicit
    let mut heard = heard.lock().unwrap().clone();
    heard[4..].sort_unstable_by_key(|e| e.0);
    assert_eq!(
        heard,
        [
            (1, 1, EvictionCause::MaxEntries),
            (2, 1, EvictionCause::MaxEntries),
            (3, 1, EvictionCause::MaxWeight),
            (6, 1, EvictionCause::Explicit),
            (4, 2, EvictionCause::Explicit),
            (7, 1, EvictionCause::Explicit),
        ]
    );
    let stats = cache.stats();
    assert_eq!(stats.evictions(), 6);
    assert_eq!(
        stats.inserts,
        stats.removals + stats.evictions() + stats.len
    );
}

#[test]
fn a_panicking_listener_leaves_the_cache_consistent() {
    let mut cache = LruCache::builder()
        .max_entries(2)
        .eviction_listener(|k: u32, _v: u32, _c| {
            if k == 1 {
                panic!("listener fails on key 1");
            }
        })
        .build()
        .unwrap();
    cache.insert(1, 1).unwrap();
    cache.insert(2, 2).unwrap();
    let outcome = catch_unwind(AssertUnwindSafe(|| cache.insert(3, 3)));
    assert!(outcome.is_err(), "the listener's panic reaches the caller");
    // The insert itself completed before the listener ran.
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [3, 2]);
    let stats = cache.stats();
    assert_eq!((stats.inserts, stats.evicted_max_entries), (3, 1));
    cache.insert(4, 4).unwrap();
    assert_eq!(cache.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [4, 3]);
}

#[test]
fn the_concurrent_listener_may_call_back_into_the_cache() {
    type Cache = ConcurrentLru<u32, u32>;
    let me: Arc<OnceLock<Weak<Cache>>> = Arc::default();
    let handle = Arc::clone(&me);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let cache: Arc<Cache> = Arc::new(
        ConcurrentLru::builder()
            .max_entries(4)
            .shards(1)
            .eviction_listener(move |k, v, cause| {
                let cache = handle.get().and_then(Weak::upgrade).unwrap();
                // Reads, writes and stats from inside the listener: the
                // shard's lock is already released.
                let present = cache.contains_key(&k);
                let len = cache.len();
                sink.lock().unwrap().push((k, cause, present, len));
                if k < 100 {
                    cache.insert(k + 100, v).unwrap();
                }
            })
            .build()
            .unwrap(),
    );
    me.set(Arc::downgrade(&cache)).unwrap();
    for k in 0..5 {
        cache.insert(k, k).unwrap();
    }
    // Key 0 left; the listener saw a consistent cache of 4 without it, then
    // re-inserted 100, which evicted 1, whose listener re-inserted 101, …
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0], (0, EvictionCause::MaxEntries, false, 4));
    assert_eq!(seen[1], (1, EvictionCause::MaxEntries, false, 4));
    assert_eq!(cache.len(), 4);
    let mut keys: Vec<u32> = (0..200).filter(|k| cache.contains_key(k)).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [101, 102, 103, 104],
        "each evicted key came back as k + 100"
    );
}
