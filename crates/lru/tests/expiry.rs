//! Time to live, with an injected clock: no test sleeps.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use perfect21_lru::{Clock, ConcurrentLru, EvictionCause, LruCache, ManualClock};

const MINUTE: Duration = Duration::from_secs(60);

type Heard = Arc<Mutex<Vec<(u32, u32, EvictionCause)>>>;

fn cache(clock: &ManualClock, ttl: Option<Duration>) -> (LruCache<u32, u32>, Heard) {
    let heard: Heard = Arc::default();
    let sink = Arc::clone(&heard);
    let mut builder = LruCache::builder()
        .max_entries(100)
        .clock(clock.clone())
        .eviction_listener(move |k, v, cause| sink.lock().unwrap().push((k, v, cause)));
    if let Some(ttl) = ttl {
        builder = builder.time_to_live(ttl);
    }
    (builder.build().unwrap(), heard)
}

#[test]
fn no_read_returns_an_expired_entry() {
    let clock = ManualClock::new();
    let (mut cache, heard) = cache(&clock, Some(MINUTE));
    cache.insert(1, 10).unwrap();
    cache.insert(2, 20).unwrap();
    clock.advance(MINUTE - Duration::from_nanos(1));
    assert_eq!(
        cache.peek(&1),
        Some(&10),
        "alive one nanosecond before its deadline"
    );
    clock.advance(Duration::from_nanos(1));
    assert_eq!(cache.peek(&1), None);
    assert!(!cache.contains_key(&1));
    assert_eq!(cache.iter().count(), 0);
    assert_eq!(cache.iter().rev().count(), 0);
    assert_eq!(cache.len(), 2, "not reclaimed by &self reads");
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.get_mut(&2), None);
    assert_eq!(cache.len(), 0, "reclaimed by the reads that can");
    assert_eq!(
        *heard.lock().unwrap(),
        [
            (1, 10, EvictionCause::Expired),
            (2, 20, EvictionCause::Expired)
        ]
    );
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.expired), (0, 2, 2));
}

#[test]
fn per_entry_ttl_overrides_the_cache_wide_one() {
    let clock = ManualClock::new();
    let (mut cache, _) = cache(&clock, Some(MINUTE));
    cache.insert_with_ttl(1, 1, Duration::from_secs(1)).unwrap();
    cache.insert_with_ttl(2, 2, 10 * MINUTE).unwrap();
    cache.insert(3, 3).unwrap();
    clock.advance(Duration::from_secs(1));
    assert_eq!(cache.get(&1), None);
    clock.advance(MINUTE);
    assert_eq!(cache.get(&3), None);
    assert_eq!(cache.get(&2), Some(&2));
}

/// A clock that counts how often it is read.
#[derive(Clone, Default)]
struct CountingClock {
    inner: ManualClock,
    reads: Arc<AtomicUsize>,
}

impl Clock for CountingClock {
    fn now(&self) -> Instant {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.now()
    }
}

#[test]
fn entries_without_ttl_never_expire_and_never_ask_the_clock() {
    let clock = CountingClock::default();
    let mut cache = LruCache::builder()
        .max_entries(4)
        .clock(clock.clone())
        .build()
        .unwrap();
    let at_build = clock.reads.load(Ordering::Relaxed);
    for k in 0..10 {
        cache.insert(k, k).unwrap();
        cache.get(&k);
    }
    clock.inner.advance(Duration::from_secs(1 << 40));
    assert_eq!(cache.get(&9), Some(&9));
    assert_eq!(cache.iter().count(), 4);
    assert_eq!(cache.purge_expired(), 0);
    assert_eq!(clock.reads.load(Ordering::Relaxed), at_build);
    cache.insert_with_ttl(100, 1, MINUTE).unwrap();
    assert!(
        clock.reads.load(Ordering::Relaxed) > at_build,
        "a TTL reads the clock"
    );
}

#[test]
fn an_update_restarts_the_ttl_and_an_expired_key_is_inserted_afresh() {
    let clock = ManualClock::new();
    let (mut cache, heard) = cache(&clock, Some(MINUTE));
    cache.insert(1, 1).unwrap();
    clock.advance(MINUTE / 2);
    assert_eq!(cache.insert(1, 2).unwrap(), Some(1));
    clock.advance(MINUTE / 2);
    assert_eq!(cache.get(&1), Some(&2), "the update restarted the clock");
    clock.advance(MINUTE);
    // The old value is expired: the insert does not hand it back.
    assert_eq!(cache.insert(1, 3).unwrap(), None);
    assert_eq!(*heard.lock().unwrap(), [(1, 2, EvictionCause::Expired)]);
    let stats = cache.stats();
    assert_eq!((stats.inserts, stats.updates, stats.expired), (2, 1, 1));
}

#[test]
fn purge_expired_reclaims_exactly_the_expired_entries() {
    let clock = ManualClock::new();
    let (mut cache, heard) = cache(&clock, None);
    for k in 0..50 {
        cache
            .insert_with_ttl(k, k, Duration::from_secs(u64::from(k % 5) + 1))
            .unwrap();
    }
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        cache.purge_expired(),
        20,
        "ttl 1 s and 2 s: keys ≡ 0, 1 mod 5"
    );
    assert_eq!(cache.len(), 30);
    assert!(cache.iter().all(|(k, _)| k % 5 >= 2));
    let heard = heard.lock().unwrap();
    assert_eq!(heard.len(), 20);
    assert!(
        heard
            .iter()
            .all(|&(k, _, c)| k % 5 < 2 && c == EvictionCause::Expired)
    );
    assert_eq!(cache.stats().expired, 20);
}

#[test]
fn an_expired_victim_is_counted_as_expired_not_as_evicted() {
    let clock = ManualClock::new();
    let heard: Heard = Arc::default();
    let sink = Arc::clone(&heard);
    let mut cache = LruCache::builder()
        .max_entries(2)
        .clock(clock.clone())
        .eviction_listener(move |k, v, cause| sink.lock().unwrap().push((k, v, cause)))
        .build()
        .unwrap();
    cache.insert_with_ttl(1, 1, MINUTE).unwrap();
    cache.insert(2, 2).unwrap();
    clock.advance(MINUTE);
    cache.insert(3, 3).unwrap();
    cache.insert(4, 4).unwrap();
    assert_eq!(
        *heard.lock().unwrap(),
        [
            (1, 1, EvictionCause::Expired),
            (2, 2, EvictionCause::MaxEntries)
        ]
    );
}

#[test]
fn pop_lru_and_retain_skip_expired_entries() {
    let clock = ManualClock::new();
    let (mut cache, heard) = cache(&clock, None);
    cache.insert_with_ttl(1, 1, MINUTE).unwrap();
    cache.insert(2, 2).unwrap();
    cache.insert_with_ttl(3, 3, MINUTE).unwrap();
    cache.insert(4, 4).unwrap();
    clock.advance(MINUTE);
    assert_eq!(cache.pop_lru(), Some((2, 2)));
    let mut shown = Vec::new();
    cache.retain(|k, _| {
        shown.push(*k);
        true
    });
    assert_eq!(shown, [4], "the predicate never sees expired entries");
    assert_eq!(cache.len(), 1);
    assert_eq!(heard.lock().unwrap().len(), 2);
}

#[test]
fn the_concurrent_form_expires_too() {
    let clock = ManualClock::new();
    let cache: ConcurrentLru<u32, u32> = ConcurrentLru::builder()
        .max_entries(1000)
        .time_to_live(MINUTE)
        .clock(clock.clone())
        .build()
        .unwrap();
    for k in 0..100 {
        cache.insert(k, k).unwrap();
    }
    cache.insert_with_ttl(1000, 1, 2 * MINUTE).unwrap();
    clock.advance(MINUTE);
    assert_eq!(cache.get(&5), None);
    assert_eq!(cache.peek(&6), None);
    assert_eq!(
        cache.get_or_insert_with(7, || 70),
        70,
        "an expired entry is loaded again"
    );
    assert_eq!(cache.purge_expired(), 98);
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.get(&1000), Some(1));
}
