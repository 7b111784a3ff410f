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

/// A clock that can panic and can call back into the pool it serves.
#[derive(Debug, Clone, Default)]
struct HostileClock {
    panics: Arc<AtomicBool>,
    pool: Arc<std::sync::Mutex<Option<ObjectPool<u64>>>>,
    reentered: Arc<std::sync::atomic::AtomicUsize>,
}

impl perfect21_object_pool::Clock for HostileClock {
    fn now(&self) -> std::time::Instant {
        assert!(!self.panics.load(SeqCst), "clock failure");
        // Re-enter the pool: deadlocks if the clock runs under its lock.
        let pool = self.pool.lock().unwrap().clone();
        if let Some(pool) = pool {
            let _ = pool.idle();
            let _ = pool.stats();
            self.reentered.fetch_add(1, SeqCst);
        }
        std::time::Instant::now()
    }
}

fn clocked(clock: &HostileClock, thread_cache: usize, max_total: Option<usize>) -> ObjectPool<u64> {
    let mut builder = ObjectPool::builder(|| 7u64)
        .idle_timeout(std::time::Duration::from_secs(3600))
        .clock(clock.clone())
        .thread_cache(thread_cache);
    if let Some(max_total) = max_total {
        builder = builder.max_total(max_total);
    }
    builder.build().unwrap()
}

#[test]
fn a_clock_may_call_back_into_the_pool() {
    // Regression: `Clock::now` ran under the shared stack's lock, so a
    // clock that touched the pool (stats, idle) deadlocked.
    for (thread_cache, max_total) in [(0, None), (4, None), (0, Some(2))] {
        let clock = HostileClock::default();
        let pool = clocked(&clock, thread_cache, max_total);
        *clock.pool.lock().unwrap() = Some(pool.clone());
        for _ in 0..3 {
            drop(pool.get().unwrap());
            drop(pool.get_timeout(std::time::Duration::ZERO).unwrap());
            drop(pool.try_get());
        }
        pool.trim(0);
        assert!(clock.reentered.load(SeqCst) > 0);
        clock.pool.lock().unwrap().take(); // break the cycle
        let stats = pool.stats();
        assert_eq!((stats.in_use, stats.hook_panics), (0, 0));
    }
}

#[test]
fn a_panicking_clock_leaves_the_pool_usable_and_the_counts_exact() {
    quiet_panics();
    for (thread_cache, max_total) in [(0, None), (4, None), (0, Some(2))] {
        let clock = HostileClock::default();
        let pool = clocked(&clock, thread_cache, max_total);
        drop(pool.get().unwrap()); // one idle object, stamped
        clock.panics.store(true, SeqCst);
        // Gets: served (no expiry check possible), never panic.
        let a = pool.get().unwrap();
        let b = pool.get().unwrap();
        // Returns: the object cannot be stamped idle, so it is dropped.
        drop(a);
        drop(b);
        let stats = pool.stats();
        assert_eq!(stats.in_use, 0, "{stats:?}");
        assert_eq!(stats.discarded_invalid, 2, "{stats:?}");
        assert!(stats.hook_panics >= 2, "{stats:?}");
        assert_eq!(stats.created - stats.discarded(), stats.idle);
        clock.panics.store(false, SeqCst);
        let held: Vec<_> = (0..2).map(|_| pool.get().unwrap()).collect();
        drop(held);
        assert_eq!(pool.stats().in_use, 0);
        assert_eq!(pool.idle(), 2, "cache {thread_cache}, cap {max_total:?}");
    }
}

/// An object whose `Drop` panics once armed.
struct Bomb(bool);

impl Drop for Bomb {
    fn drop(&mut self) {
        if self.0 && !std::thread::panicking() {
            panic!("drop failure");
        }
    }
}

#[test]
fn a_panicking_drop_of_a_discarded_object_frees_its_place_and_is_counted() {
    quiet_panics();
    for thread_cache in [0, 4] {
        let pool = ObjectPool::builder(|| Bomb(false))
            .validate(|bomb: &Bomb| !bomb.0)
            .max_idle(1)
            .thread_cache(thread_cache)
            .build()
            .unwrap();
        let capped = ObjectPool::builder(|| Bomb(false))
            .validate(|bomb: &Bomb| !bomb.0)
            .max_total(1)
            .build()
            .unwrap();
        for pool in [&pool, &capped] {
            let mut bomb = pool.get().unwrap();
            bomb.0 = true; // refused by validate, then dropped: panics
            drop(bomb); // must not panic out of the pool
            let stats = pool.stats();
            assert_eq!(
                (stats.discarded_invalid, stats.hook_panics, stats.in_use),
                (1, 1, 0),
                "cache {thread_cache}"
            );
            let again = pool.get().expect("the place came back");
            drop(again);
            assert_eq!(pool.stats().returned, 1);
        }
    }
}
