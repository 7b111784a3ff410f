//! `idle_timeout` with an injected clock: applied lazily on gets and
//! returns, never hands out an object idle for too long.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use perfect21_object_pool::{Clock, ObjectPool};

/// A clock the test moves by hand.
#[derive(Debug, Clone)]
struct ManualClock(Arc<Mutex<Instant>>);

impl ManualClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(Instant::now())))
    }
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap()
    }
}

fn pool(clock: &ManualClock, thread_cache: usize) -> ObjectPool<u64> {
    let next = Arc::new(Mutex::new(0u64));
    ObjectPool::builder(move || {
        let mut next = next.lock().unwrap();
        *next += 1;
        *next
    })
    .idle_timeout(Duration::from_secs(30))
    .clock(clock.clone())
    .thread_cache(thread_cache)
    .max_idle(8)
    .build()
    .unwrap()
}

#[test]
fn objects_idle_past_the_timeout_are_dropped_not_reused() {
    for thread_cache in [0, 4] {
        let clock = ManualClock::new();
        let pool = pool(&clock, thread_cache);
        let held: Vec<_> = (0..3).map(|_| pool.get().unwrap()).collect();
        drop(held);
        assert_eq!(pool.idle(), 3);
        clock.advance(Duration::from_secs(29));
        let fresh_enough = pool.get().unwrap();
        assert!(*fresh_enough <= 3, "still within the timeout: reused");
        drop(fresh_enough);
        clock.advance(Duration::from_secs(30));
        let object = pool.get().unwrap();
        assert_eq!(
            *object, 4,
            "every idle object expired: a new one (cache {thread_cache})"
        );
        let stats = pool.stats();
        assert_eq!(stats.discarded_expired, 3, "cache {thread_cache}");
        assert_eq!((stats.idle, stats.in_use, stats.created), (0, 1, 4));
    }
}

#[test]
fn only_the_expired_objects_go() {
    let clock = ManualClock::new();
    let pool = pool(&clock, 0);
    drop(pool.get().unwrap()); // object 1 idle at t0
    clock.advance(Duration::from_secs(20));
    let a = pool.get().unwrap(); // reuses 1
    let b = pool.get().unwrap(); // creates 2
    drop(b); // 2 idle at t20
    clock.advance(Duration::from_secs(15));
    drop(a); // 1 idle at t35
    clock.advance(Duration::from_secs(20)); // t55: 2 is 35 s idle, 1 is 20 s
    let object = pool.get().unwrap();
    assert_eq!(*object, 1);
    assert!(pool.try_get().is_none(), "object 2 expired");
    assert_eq!(pool.stats().discarded_expired, 1);
}

#[test]
fn expired_objects_behind_fresher_ones_in_the_shared_stack_are_reclaimed() {
    // Regression: expiry only popped expired objects off the front of the
    // shared stack, but a flush or a spill appends older objects at the
    // back: expired objects stayed in the middle, holding budget.
    let clock = ManualClock::new();
    let pool = pool(&clock, 4);
    let late: Vec<_> = (0..3).map(|_| pool.get_owned().unwrap()).collect(); // 1, 2, 3
    let early: Vec<_> = (0..2).map(|_| pool.get().unwrap()).collect(); // 4, 5
    drop(early); // idle at t0, in this thread's cache
    clock.advance(Duration::from_secs(10));
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let held: Vec<_> = (0..2).map(|_| pool.get().unwrap()).collect(); // 6, 7
            drop(held); // idle at t10; the thread's exit flushes them
        });
    });
    pool.trim(usize::MAX); // flushes this thread's cache: t0 objects behind t10 ones
    clock.advance(Duration::from_secs(10));
    std::thread::scope(|scope| {
        scope.spawn(move || drop(late)); // idle at t20, flushed at the back
    });
    assert_eq!(pool.idle(), 7);
    clock.advance(Duration::from_secs(15)); // t35: only the t0 objects expired
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let object = pool.get().unwrap();
            assert!(
                *object != 4 && *object != 5,
                "never hands out an expired object"
            );
        });
    });
    let stats = pool.stats();
    assert_eq!(stats.discarded_expired, 2, "{stats:?}");
    assert_eq!(pool.idle(), 5);
}

#[test]
fn prefilled_objects_expire_too() {
    // Regression: prefilled objects were never stamped idle, so they never
    // expired.
    let clock = ManualClock::new();
    for thread_cache in [0, 4] {
        let pool = ObjectPool::builder(|| 0u64)
            .idle_timeout(Duration::from_secs(30))
            .clock(clock.clone())
            .thread_cache(thread_cache)
            .prefill(2)
            .build()
            .unwrap();
        clock.advance(Duration::from_secs(30));
        drop(pool.get().unwrap());
        let stats = pool.stats();
        assert_eq!(
            (stats.discarded_expired, stats.reused, stats.created),
            (2, 0, 3),
            "cache {thread_cache}"
        );
    }
}

#[test]
fn expired_objects_free_their_place_in_a_capped_pool() {
    // Regression: when a get discarded expired objects and then took a
    // fresh one, the expired objects never left `live`: the capped pool
    // lost their places for good.
    let clock = ManualClock::new();
    let pool = ObjectPool::builder(|| 0u64)
        .idle_timeout(Duration::from_secs(30))
        .clock(clock.clone())
        .max_total(2)
        .build()
        .unwrap();
    let a = pool.get().unwrap();
    let b = pool.get().unwrap();
    drop(a); // idle at t0
    clock.advance(Duration::from_secs(20));
    drop(b); // idle at t20
    clock.advance(Duration::from_secs(15)); // t35: a expired, b fresh
    let b = pool.get().unwrap();
    let c = pool
        .get()
        .expect("the expired object's place is free again");
    let stats = pool.stats();
    assert_eq!(
        (stats.discarded_expired, stats.reused, stats.created),
        (1, 1, 3)
    );
    drop((b, c));
}
