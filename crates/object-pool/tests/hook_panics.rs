//! A panicking `reset`, `validate` or factory never poisons the pool or
//! corrupts its counts.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use perfect21_object_pool::ObjectPool;

fn quiet_panics() {
    // The panics below are expected; keep the test output readable.
    std::panic::set_hook(Box::new(|_| {}));
}

#[test]
fn a_panicking_reset_drops_the_object_and_counts_it() {
    quiet_panics();
    for thread_cache in [0, 8] {
        let pool = ObjectPool::builder(Vec::<u8>::new)
            .thread_cache(thread_cache)
            .reset(|buffer: &mut Vec<u8>| {
                assert!(buffer.len() < 3, "reset refuses long buffers");
                buffer.clear();
            })
            .build()
            .unwrap();
        pool.get().unwrap().extend_from_slice(b"long"); // reset panics
        pool.get().unwrap().push(1); // reset fine
        let stats = pool.stats();
        assert_eq!(stats.hook_panics, 1);
        assert_eq!(stats.discarded_invalid, 1);
        assert_eq!(
            (stats.created, stats.returned, stats.in_use, stats.idle),
            (2, 1, 0, 1)
        );
        assert!(pool.get().unwrap().is_empty(), "the pool still works");
    }
}

#[test]
fn a_panicking_validate_counts_as_invalid() {
    quiet_panics();
    let pool = ObjectPool::builder(Vec::<u8>::new)
        .validate(|buffer: &Vec<u8>| {
            assert!(buffer.is_empty(), "validate panics on non-empty buffers");
            true
        })
        .build()
        .unwrap();
    pool.get().unwrap().push(1);
    drop(pool.get().unwrap());
    let stats = pool.stats();
    assert_eq!(
        (
            stats.hook_panics,
            stats.discarded_invalid,
            stats.returned,
            stats.idle
        ),
        (1, 1, 1, 1)
    );
}

/// A factory that panics until the returned switch is turned off.
fn failing_factory() -> (
    Arc<AtomicBool>,
    impl Fn() -> Vec<u8> + Send + Sync + 'static,
) {
    let fail = Arc::new(AtomicBool::new(true));
    let failing = Arc::clone(&fail);
    (fail, move || {
        assert!(!failing.load(SeqCst), "factory failure");
        Vec::new()
    })
}

#[test]
fn a_panicking_factory_leaves_the_pool_usable() {
    quiet_panics();
    let (fail, factory) = failing_factory();
    let pool = ObjectPool::builder(factory).build().unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| pool.get().map(|_| ()))).is_err());
    let stats = pool.stats();
    assert_eq!((stats.created, stats.in_use, stats.idle), (0, 0, 0));
    fail.store(false, SeqCst);
    drop(pool.get().unwrap());
    assert_eq!(pool.stats().created, 1);
}

#[test]
fn a_panicking_factory_frees_its_place_in_a_capped_pool() {
    quiet_panics();
    let (fail, factory) = failing_factory();
    let pool = ObjectPool::builder(factory).max_total(1).build().unwrap();
    for _ in 0..3 {
        assert!(catch_unwind(AssertUnwindSafe(|| pool.get().map(|_| ()))).is_err());
    }
    fail.store(false, SeqCst);
    let only = pool
        .get()
        .expect("the failed creations gave their place back");
    assert!(pool.get().is_err());
    drop(only);
}
