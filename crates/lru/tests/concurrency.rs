//! Many threads, many operations, then exact totals: every counter of
//! `ConcurrentLru` must agree with what the callers observed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use perfect21_lru::{ConcurrentLru, EvictionCause};

const THREADS: u64 = 8;
const OPS: u64 = if cfg!(miri) { 200 } else { 100_000 };

#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    hits: u64,
    misses: u64,
    inserts: u64,
    updates: u64,
    removals: u64,
}

#[test]
fn exact_totals_after_eight_threads_of_mixed_operations() {
    let evicted = Arc::new(AtomicU64::new(0));
    let sink = Arc::clone(&evicted);
    let cache = Arc::new(
        ConcurrentLru::<u64, u64>::builder()
            .max_entries(1024)
            .shards(8)
            .eviction_listener(move |_k, _v, cause| {
                assert_eq!(cause, EvictionCause::MaxEntries);
                sink.fetch_add(1, Ordering::Relaxed);
            })
            .build()
            .unwrap(),
    );
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let cache = Arc::clone(&cache);
            std::thread::spawn(move || {
                let mut seen = Seen::default();
                let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ t;
                for _ in 0..OPS {
                    // xorshift: a cheap, deterministic mix per thread.
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let key = x % 4096;
                    match x >> 60 {
                        0..=7 => match cache.get(&key) {
                            Some(v) => {
                                assert_eq!(v % 4096, key, "a value belongs to its key");
                                seen.hits += 1;
                            }
                            None => seen.misses += 1,
                        },
                        8..=13 => match cache.insert(key, key + 4096 * t).unwrap() {
                            Some(_) => seen.updates += 1,
                            None => seen.inserts += 1,
                        },
                        _ => seen.removals += u64::from(cache.remove(&key).is_some()),
                    }
                }
                seen
            })
        })
        .collect();
    let mut total = Seen::default();
    for t in threads {
        let s = t.join().unwrap();
        total.hits += s.hits;
        total.misses += s.misses;
        total.inserts += s.inserts;
        total.updates += s.updates;
        total.removals += s.removals;
    }
    let stats = cache.stats();
    assert_eq!(stats.hits, total.hits);
    assert_eq!(stats.misses, total.misses);
    assert_eq!(stats.inserts, total.inserts);
    assert_eq!(stats.updates, total.updates);
    assert_eq!(stats.removals, total.removals);
    assert_eq!(stats.evicted_max_entries, evicted.load(Ordering::Relaxed));
    assert_eq!(stats.len as usize, cache.len());
    assert!(cache.len() <= 1024);
    assert_eq!(
        stats.inserts,
        stats.len + stats.removals + stats.evicted_max_entries,
        "{stats:?}"
    );
    assert_eq!(stats.weight, stats.len, "unit weights");
    assert_eq!(stats.lookups(), total.hits + total.misses);
}
