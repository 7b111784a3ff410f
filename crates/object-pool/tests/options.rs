//! Every builder option, and `build()` refusing values out of range.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use perfect21_object_pool::{Error, ObjectPool, Reset};

fn counting_factory() -> (
    Arc<AtomicUsize>,
    impl Fn() -> Vec<u8> + Send + Sync + 'static,
) {
    let made = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&made);
    (made, move || {
        counter.fetch_add(1, SeqCst);
        Vec::with_capacity(1024)
    })
}

/// Holds `n` objects at once, then returns them all.
fn churn<T: Send + 'static>(pool: &ObjectPool<T>, n: usize) {
    let held: Vec<_> = (0..n).map(|_| pool.get().unwrap()).collect();
    drop(held);
}

#[test]
fn build_refuses_out_of_range_options_naming_the_field() {
    let cases: Vec<(Error, &str, &str)> = vec![
        (
            ObjectPool::builder(Vec::<u8>::new)
                .max_total(0)
                .build()
                .unwrap_err(),
            "max_total",
            "1..",
        ),
        (
            ObjectPool::builder(Vec::<u8>::new)
                .max_total(4)
                .max_idle(5)
                .build()
                .unwrap_err(),
            "max_idle",
            "0..=max_total (4)",
        ),
        (
            ObjectPool::builder(Vec::<u8>::new)
                .thread_cache(17)
                .build()
                .unwrap_err(),
            "thread_cache",
            "0..=16",
        ),
        (
            ObjectPool::builder(Vec::<u8>::new)
                .max_idle(3)
                .prefill(4)
                .build()
                .unwrap_err(),
            "prefill",
            "0..=max_idle (3)",
        ),
        (
            ObjectPool::builder(Vec::<u8>::new)
                .idle_timeout(Duration::ZERO)
                .build()
                .unwrap_err(),
            "idle_timeout",
            "more than zero",
        ),
    ];
    for (error, field, allowed) in cases {
        match &error {
            Error::InvalidConfig {
                field: f,
                allowed: a,
                ..
            } => {
                assert_eq!(*f, field);
                assert_eq!(a, allowed);
            }
            other => panic!("expected InvalidConfig for {field}, got {other:?}"),
        }
        let message = error.to_string();
        assert!(
            message.contains(field) && message.contains(allowed),
            "{message}"
        );
    }
}

#[test]
fn defaults_and_limits_are_reported() {
    let pool = ObjectPool::new(Vec::<u8>::new);
    assert_eq!(pool.max_idle(), perfect21_object_pool::DEFAULT_MAX_IDLE);
    assert_eq!(pool.max_total(), None);
    let capped = ObjectPool::builder(Vec::<u8>::new)
        .max_total(3)
        .build()
        .unwrap();
    assert_eq!(
        (capped.max_idle(), capped.max_total()),
        (3, Some(3)),
        "max_idle defaults to max_total"
    );
}

#[test]
fn prefill_creates_idle_objects_that_gets_reuse() {
    let (made, factory) = counting_factory();
    let pool = ObjectPool::builder(factory).prefill(3).build().unwrap();
    assert_eq!(made.load(SeqCst), 3);
    assert_eq!(pool.idle(), 3);
    let a = pool.get().unwrap();
    let b = pool.get().unwrap();
    assert_eq!(made.load(SeqCst), 3, "served from the prefilled objects");
    let stats = pool.stats();
    assert_eq!(
        (stats.created, stats.reused, stats.in_use, stats.idle),
        (3, 2, 2, 1)
    );
    drop((a, b));
    assert_eq!(pool.idle(), 3);
}

#[test]
fn reset_runs_on_return_and_keeps_capacity() {
    let pool = ObjectPool::builder(|| Vec::<u8>::with_capacity(4096))
        .reset(Reset::reset)
        .build()
        .unwrap();
    {
        let mut buffer = pool.get().unwrap();
        buffer.extend_from_slice(b"secret");
    }
    let buffer = pool.get().unwrap();
    assert!(
        buffer.is_empty(),
        "a get never sees the previous user's data"
    );
    assert!(buffer.capacity() >= 4096);
    assert_eq!(pool.stats().reused, 1);
}

#[test]
fn without_reset_objects_come_back_as_left() {
    let pool = ObjectPool::new(Vec::<u8>::new);
    pool.get().unwrap().push(7);
    assert_eq!(*pool.get().unwrap(), vec![7]);
}

#[test]
fn validate_false_drops_the_object_and_counts_it() {
    let pool = ObjectPool::builder(Vec::<u8>::new)
        .reset(Reset::reset)
        .validate(|buffer| buffer.capacity() <= 64)
        .build()
        .unwrap();
    pool.get().unwrap().reserve(1000); // grew past the limit
    pool.get().unwrap().push(1); // stays small
    let stats = pool.stats();
    assert_eq!(stats.discarded_invalid, 1);
    assert_eq!(stats.returned, 1);
    assert_eq!(pool.idle(), 1);
    assert!(pool.get().unwrap().capacity() <= 64);
}

#[test]
fn max_idle_bounds_what_is_kept() {
    let (made, factory) = counting_factory();
    let pool = ObjectPool::builder(factory).max_idle(2).build().unwrap();
    let held: Vec<_> = (0..5).map(|_| pool.get().unwrap()).collect();
    assert_eq!(made.load(SeqCst), 5);
    drop(held);
    let stats = pool.stats();
    assert_eq!(pool.idle(), 2);
    assert_eq!(
        (stats.returned, stats.discarded_over_max_idle, stats.in_use),
        (2, 3, 0)
    );
}

#[test]
fn max_idle_zero_keeps_nothing() {
    let pool = ObjectPool::builder(Vec::<u8>::new)
        .max_idle(0)
        .build()
        .unwrap();
    drop(pool.get().unwrap());
    drop(pool.get().unwrap());
    let stats = pool.stats();
    assert_eq!(
        (
            stats.created,
            stats.reused,
            stats.discarded_over_max_idle,
            stats.idle
        ),
        (2, 0, 2, 0)
    );
}

#[test]
fn try_get_never_creates() {
    let (made, factory) = counting_factory();
    let pool = ObjectPool::builder(factory).build().unwrap();
    assert!(pool.try_get().is_none());
    assert!(pool.try_get_owned().is_none());
    assert_eq!(made.load(SeqCst), 0);
    drop(pool.get().unwrap());
    assert!(pool.try_get().is_some());
    assert_eq!(made.load(SeqCst), 1);
    assert_eq!(pool.stats().reused, 1);
}

#[test]
fn detach_takes_the_object_out_for_good() {
    let pool = ObjectPool::builder(|| vec![1u8, 2, 3]).build().unwrap();
    let owned = pool.get().unwrap().detach();
    assert_eq!(owned, vec![1, 2, 3]);
    let also = pool.get_owned().unwrap().detach();
    assert_eq!(also, vec![1, 2, 3]);
    let stats = pool.stats();
    assert_eq!(
        (stats.created, stats.detached, stats.in_use, stats.idle),
        (2, 2, 0, 0)
    );
}

#[test]
fn owned_guards_are_static_and_send() {
    let pool = ObjectPool::builder(|| String::with_capacity(16))
        .reset(Reset::reset)
        .build()
        .unwrap();
    let mut guard = pool.get_owned().unwrap();
    guard.push_str("moved");
    drop(pool); // the guard keeps the pool alive
    let handle = std::thread::spawn(move || {
        assert_eq!(guard.as_str(), "moved");
        drop(guard);
    });
    handle.join().unwrap();
}

#[test]
fn a_pool_handle_is_cheap_to_clone_and_shared() {
    let pool = ObjectPool::new(Vec::<u8>::new);
    let other = pool.clone();
    drop(pool.get().unwrap());
    assert_eq!(other.stats().created, 1);
    assert_eq!(other.idle(), 1);
}

#[test]
fn trim_keeps_at_most_keep_idle_objects() {
    let pool = ObjectPool::builder(Vec::<u8>::new)
        .max_idle(10)
        .build()
        .unwrap();
    churn(&pool, 6);
    assert_eq!(pool.idle(), 6);
    pool.trim(2);
    assert_eq!(pool.idle(), 2);
    assert_eq!(pool.stats().discarded_trimmed, 4);
    pool.trim(5);
    assert_eq!(pool.idle(), 2, "trim never creates");
    pool.trim(0);
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.discarded_trimmed, stats.in_use),
        (0, 6, 0)
    );
}

#[test]
fn stats_off_keeps_counters_at_zero_but_idle_exact() {
    let pool = ObjectPool::builder(Vec::<u8>::new)
        .stats(false)
        .build()
        .unwrap();
    churn(&pool, 3);
    let stats = pool.stats();
    assert_eq!(
        (stats.created, stats.reused, stats.returned, stats.in_use),
        (0, 0, 0, 0)
    );
    assert_eq!(stats.idle, 3);
}

#[test]
fn thread_cache_off_uses_the_shared_stack() {
    let pool = ObjectPool::builder(Vec::<u8>::new)
        .thread_cache(0)
        .max_idle(2)
        .build()
        .unwrap();
    churn(&pool, 3);
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.returned, stats.discarded_over_max_idle),
        (2, 2, 1)
    );
    drop(pool.get().unwrap());
    assert_eq!(pool.stats().reused, 1);
}

#[test]
fn reuse_ratio_is_reused_over_handed_out() {
    let pool = ObjectPool::new(Vec::<u8>::new);
    assert_eq!(pool.stats().reuse_ratio(), 0.0);
    for _ in 0..4 {
        drop(pool.get().unwrap());
    }
    assert_eq!(pool.stats().reuse_ratio(), 0.75);
}

#[test]
fn reset_trait_clears_collections_keeping_capacity() {
    use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};
    fn check<T: Reset>(mut value: T, len: impl Fn(&T) -> usize) {
        value.reset();
        assert_eq!(len(&value), 0);
    }
    let mut map = HashMap::with_capacity(64);
    map.insert(1, 2);
    let capacity = map.capacity();
    map.reset();
    assert!(map.is_empty() && map.capacity() >= capacity);
    check(vec![1], Vec::len);
    check(String::from("x"), String::len);
    check(VecDeque::from([1]), VecDeque::len);
    check(BinaryHeap::from([1]), BinaryHeap::len);
    check(HashSet::from([1]), HashSet::len);
    check(BTreeMap::from([(1, 1)]), BTreeMap::len);
    check(BTreeSet::from([1]), BTreeSet::len);
    check(Box::new(vec![1]), |b| b.len());
}

#[cfg(feature = "bytes")]
#[test]
fn reset_trait_clears_bytes_mut() {
    let mut buffer = bytes::BytesMut::with_capacity(128);
    buffer.extend_from_slice(b"abc");
    buffer.reset();
    assert!(buffer.is_empty() && buffer.capacity() >= 128);
}

#[cfg(feature = "serde")]
#[test]
fn stats_serialize() {
    let pool = ObjectPool::new(Vec::<u8>::new);
    drop(pool.get().unwrap());
    let json = serde_json::to_value(pool.stats()).unwrap();
    assert_eq!(json["created"], 1);
    assert_eq!(json["idle"], 1);
}

#[test]
fn pools_and_guards_cross_threads_when_the_object_does() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<ObjectPool<Vec<u8>>>();
    send_sync::<perfect21_object_pool::Pooled<'static, Vec<u8>>>();
    send::<perfect21_object_pool::PooledOwned<Vec<u8>>>();
    send::<perfect21_object_pool::ObjectPoolBuilder<Vec<u8>>>();
}
