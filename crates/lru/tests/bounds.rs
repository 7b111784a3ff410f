//! Both bounds, strictly: refusals hand the entry back, re-weighing never
//! drifts, runtime changes evict at once, and invalid configuration is
//! refused naming the field.

use std::num::NonZeroUsize;

use perfect21_lru::{ConcurrentLru, Error, HeapSizeWeigher, LruCache};

#[test]
fn an_entry_heavier_than_max_weight_is_handed_back_and_changes_nothing() {
    let mut cache = LruCache::builder()
        .max_weight(10)
        .weigher(|_k: &&str, v: &Vec<u8>| v.len() as u64)
        .build()
        .unwrap();
    cache.insert("a", vec![0; 4]).unwrap();
    cache.insert("b", vec![0; 6]).unwrap();
    let refused = cache.insert("a", vec![7; 11]).unwrap_err();
    assert_eq!((refused.weight, refused.max_weight), (11, 10));
    assert_eq!(refused.into_inner(), ("a", vec![7; 11]));
    assert_eq!(cache.peek("a"), Some(&vec![0; 4]), "the old entry stays");
    assert_eq!(cache.weight(), 10);
    assert_eq!(cache.stats().rejected, 1);
    assert_eq!(
        format!("{:?}", cache.insert("c", vec![1; 12]).unwrap_err()),
        "Rejected { weight: 12, max_weight: 10, .. }",
        "Debug shows neither key nor value"
    );
}

#[test]
fn reinserting_with_a_new_weight_updates_the_total() {
    let mut cache = LruCache::builder()
        .max_weight(100)
        .weigher(|_k: &u32, v: &String| v.len() as u64)
        .build()
        .unwrap();
    for round in 0..1000 {
        let value = "x".repeat(round % 50);
        cache.insert(round as u32 % 3, value).unwrap();
        let sum: u64 = cache.iter().map(|(_, v)| v.len() as u64).sum();
        assert_eq!(cache.weight(), sum, "round {round}");
    }
}

#[test]
fn heavier_updates_evict_others_but_never_the_updated_entry() {
    let mut cache = LruCache::builder()
        .max_weight(10)
        .weigher(|_k: &u32, v: &u64| *v)
        .build()
        .unwrap();
    for k in 0..5 {
        cache.insert(k, 2).unwrap();
    }
    assert_eq!(cache.insert(0, 10).unwrap(), Some(2));
    assert_eq!(
        cache.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
        [(0, 10)]
    );
    assert_eq!(cache.stats().evicted_max_weight, 4);
}

#[test]
fn bounds_change_at_runtime_and_evict_down_at_once() {
    let mut cache = LruCache::builder()
        .max_entries(100)
        .max_weight(1000)
        .weigher(|_k: &u32, v: &u64| *v)
        .build()
        .unwrap();
    for k in 0..100 {
        cache.insert(k, 5).unwrap();
    }
    cache.set_max_entries(10).unwrap();
    assert_eq!(cache.len(), 10);
    assert_eq!(
        cache.iter().next_back(),
        Some((&90, &5)),
        "the 10 most recent remain"
    );
    cache.set_max_weight(21).unwrap();
    assert_eq!((cache.len(), cache.weight()), (4, 20));
    assert_eq!(cache.max_entries(), Some(10));
    assert_eq!(cache.max_weight(), Some(21));
    let stats = cache.stats();
    assert_eq!(
        (stats.evicted_max_entries, stats.evicted_max_weight),
        (90, 6)
    );
    assert!(matches!(
        cache.set_max_entries(0),
        Err(Error::OutOfRange {
            field: "max_entries",
            ..
        })
    ));
    assert!(matches!(
        cache.set_max_weight(0),
        Err(Error::OutOfRange {
            field: "max_weight",
            ..
        })
    ));
    assert_eq!(cache.len(), 4, "a refused change changes nothing");
}

#[test]
fn invalid_configuration_is_refused_naming_the_field_and_range() {
    let err = LruCache::<u32, u32>::builder().build().unwrap_err();
    assert_eq!(err, Error::Unbounded);
    let err = LruCache::<u32, u32>::builder()
        .max_entries(0)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid `max_entries`: 0 (allowed: 1..=4294967294)"
    );
    let err = LruCache::<u32, u32>::builder()
        .max_entries(1 << 33)
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        Error::OutOfRange {
            field: "max_entries",
            ..
        }
    ));
    let err = LruCache::<u32, u32>::builder()
        .max_weight(0)
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        Error::OutOfRange {
            field: "max_weight",
            ..
        }
    ));
    let err = LruCache::<u32, u32>::builder()
        .max_entries(1)
        .time_to_live(std::time::Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        Error::OutOfRange {
            field: "time_to_live",
            ..
        }
    ));
    let err = ConcurrentLru::<u32, u32>::builder()
        .max_entries(100)
        .shards(3)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid `shards`: 3 (allowed: a power of two in 1..=65536)"
    );
}

#[test]
fn weight_only_caches_are_unbounded_in_count() {
    let mut cache = LruCache::builder()
        .max_weight(10_000)
        .weigher(HeapSizeWeigher)
        .build()
        .unwrap();
    for k in 0..1000u64 {
        cache.insert(k, String::with_capacity(100)).unwrap();
        assert!(cache.weight() <= 10_000);
    }
    assert_eq!(cache.max_entries(), None);
    assert!(cache.len() > 10 && cache.len() < 100, "{}", cache.len());
}

#[test]
fn concurrent_bounds_are_split_so_the_global_bounds_hold() {
    let cache = ConcurrentLru::<u64, u64>::builder()
        .max_entries(1000)
        .max_weight(3000)
        .weigher(|_k: &u64, v: &u64| *v)
        .shards(8)
        .build()
        .unwrap();
    assert_eq!(cache.shards(), 8);
    for k in 0..10_000u64 {
        // An entry may be refused for its shard's share (3000 / 8 = 375).
        let _ = cache.insert(k, k % 400);
        assert!(cache.len() <= 1000);
        assert!(cache.weight() <= 3000);
    }
    let stats = cache.stats();
    assert!(
        stats.rejected > 0,
        "weights 376..400 exceed a shard's share"
    );
    cache.set_max_entries(100).unwrap();
    assert!(cache.len() <= 100);
    cache.set_max_weight(80).unwrap();
    assert!(cache.weight() <= 80);
    assert!(matches!(
        cache.set_max_entries(7),
        Err(Error::OutOfRange {
            field: "max_entries",
            ..
        })
    ));
    // Small bounds use fewer shards: each keeps at least 64 entries.
    let small: ConcurrentLru<u64, u64> = ConcurrentLru::new(NonZeroUsize::new(200).unwrap());
    assert!(small.shards() <= 2 && 200 / small.shards() >= 64);
}

/// Regression (issue 15): the total weight was summed with `+=`; entries
/// whose weights add past `u64::MAX` overflowed it (a panic in debug
/// builds, a wrapped total that broke the bound in release builds).
#[test]
fn weights_that_add_past_u64_max_evict_instead_of_overflowing() {
    let mut cache = LruCache::builder()
        .max_weight(u64::MAX)
        .weigher(|_k: &u32, v: &u64| *v)
        .build()
        .unwrap();
    cache.insert(1, u64::MAX).unwrap();
    cache.insert(2, 1).unwrap();
    assert_eq!(cache.weight(), 1, "1 left for weight");
    assert!(!cache.contains_key(&1));
    assert_eq!(cache.stats().evicted_max_weight, 1);
    // An update that pushes the total past u64::MAX evicts the others.
    cache.insert(3, u64::MAX - 1).unwrap();
    assert_eq!(cache.weight(), u64::MAX);
    cache.insert(2, 2).unwrap();
    assert_eq!(cache.weight(), 2);
    assert_eq!(cache.len(), 1);

    let concurrent = ConcurrentLru::builder()
        .max_weight(u64::MAX)
        .shards(1)
        .weigher(|_k: &u32, v: &u64| *v)
        .build()
        .unwrap();
    concurrent.insert(1, u64::MAX).unwrap();
    concurrent.insert(2, u64::MAX).unwrap();
    assert_eq!(concurrent.weight(), u64::MAX);
    assert_eq!(concurrent.len(), 1);
    assert_eq!(concurrent.stats().weight, u64::MAX);
}

/// An unbounded concurrent cache (only `max_entries` set) whose shards each
/// hold nearly `u64::MAX` of weight: the sum saturates rather than
/// overflowing.
#[test]
fn the_total_weight_of_an_unbounded_concurrent_cache_saturates() {
    let cache = ConcurrentLru::builder()
        .max_entries(1024)
        .shards(4)
        .weigher(|_k: &u32, v: &u64| *v)
        .build()
        .unwrap();
    for k in 0..64 {
        cache.insert(k, u64::MAX / 2).unwrap();
    }
    assert_eq!(cache.weight(), u64::MAX);
    assert_eq!(cache.stats().weight, u64::MAX);
}
