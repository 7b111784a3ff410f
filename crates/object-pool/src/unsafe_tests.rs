//! Unit tests that walk every `unsafe` block (thread caches, the slot
//! table, the per-thread slot cache, the guards) — these are what Miri
//! runs (`[package.metadata.perfect21] miri`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use crate::{ObjectPool, Reset};

/// An object that counts its drops, to catch a double drop or a leak.
struct Counted {
    drops: Arc<AtomicUsize>,
    data: Vec<u8>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

fn pool(drops: &Arc<AtomicUsize>, max_idle: usize, thread_cache: usize) -> ObjectPool<Counted> {
    let drops = Arc::clone(drops);
    ObjectPool::builder(move || Counted {
        drops: Arc::clone(&drops),
        data: Vec::with_capacity(8),
    })
    .reset(|object: &mut Counted| object.data.reset())
    .max_idle(max_idle)
    .thread_cache(thread_cache)
    .build()
    .unwrap()
}

#[test]
fn cache_push_pop_spill_refill_and_drop_own_each_object_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let pool = pool(&drops, 6, 4);
    // More than a cache's worth: returns overflow into the shared stack,
    // gets refill from it.
    for round in 0..3 {
        let held: Vec<_> = (0..7).map(|_| pool.get().unwrap()).collect();
        drop(held);
        assert_eq!(pool.idle(), 6, "round {round}");
    }
    let stats = pool.stats();
    assert_eq!(stats.created - stats.discarded(), 6);
    assert_eq!(drops.load(SeqCst) as u64, stats.discarded());
    pool.trim(2);
    assert_eq!(drops.load(SeqCst) as u64, pool.stats().discarded());
    drop(pool);
    assert_eq!(
        drops.load(SeqCst) as u64,
        stats.created,
        "dropping the pool drops every idle object"
    );
}

#[test]
fn guards_detach_and_owned_guards_release_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let pool = pool(&drops, 4, 2);
    let mut owned = pool.get_owned().unwrap();
    owned.data.push(1);
    let detached = pool.get_owned().unwrap().detach();
    let borrowed = pool.get().unwrap().detach();
    drop(owned);
    assert_eq!(drops.load(SeqCst), 0);
    drop((detached, borrowed));
    assert_eq!(drops.load(SeqCst), 2);
    let again = pool.get().unwrap();
    assert!(again.data.is_empty(), "reset on return");
    drop(again);
    drop(pool);
    assert_eq!(drops.load(SeqCst), 3);
}

#[test]
fn threads_exit_flushing_their_caches_and_reuse_indices() {
    let drops = Arc::new(AtomicUsize::new(0));
    let pool = pool(&drops, 8, 4);
    for _ in 0..3 {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    let held: Vec<_> = (0..3).map(|_| pool.get().unwrap()).collect();
                    drop(held);
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
    }
    let stats = pool.stats();
    assert_eq!(stats.idle, stats.created - stats.discarded());
    // Objects cross threads: taken here, returned on another thread.
    let guard = pool.get_owned().unwrap();
    std::thread::spawn(move || drop(guard)).join().unwrap();
    // Two pools on one thread take turns in its one-entry slot cache.
    let other = self::pool(&drops, 2, 2);
    for _ in 0..3 {
        drop(pool.get().unwrap());
        drop(other.get().unwrap());
    }
    let made = pool.stats().created + other.stats().created;
    drop((pool, other));
    assert_eq!(
        drops.load(SeqCst) as u64,
        made,
        "every object made was dropped exactly once"
    );
}

/// A pool that makes objects marked with its own name.
fn named(name: &'static str) -> ObjectPool<&'static str> {
    ObjectPool::builder(move || name)
        .thread_cache(4)
        .build()
        .unwrap()
}

#[test]
fn pools_whose_ids_differ_by_2_pow_40_never_share_a_cached_slot() {
    // Regression: keys were `id << 24 | epoch`, keeping 40 bits of the id, so
    // pool ids 2^40 apart had the same key and the second pool's fast path
    // used the first pool's slot (here: handed out the first pool's object;
    // with the first pool dropped, a dangling pointer). Keys are now whole
    // 64-bit values from one counter that never wraps.
    std::thread::spawn(|| {
        crate::thread_id::test_keys::start_at(7);
        let first = named("first");
        crate::thread_id::test_keys::start_at(7 + (1 << 40));
        let second = named("second");
        drop(first.get().unwrap()); // cached in `first`'s slot for this thread
        assert_eq!(*second.get().unwrap(), "second");
        assert_eq!(*first.get().unwrap(), "first");
        drop(first);
        for _ in 0..3 {
            assert_eq!(*second.get().unwrap(), "second");
        }
        assert_eq!(second.stats().created, 1);
    })
    .join()
    .unwrap();
}

#[test]
fn pools_made_after_the_key_counter_runs_out_still_work_on_the_slow_path() {
    std::thread::spawn(|| {
        crate::thread_id::test_keys::start_at(u64::MAX - 1);
        let last = named("last"); // the last key ever handed out
        let after = named("after"); // no key left: never cached
        let also_after = named("also after");
        for _ in 0..3 {
            assert_eq!(*last.get().unwrap(), "last");
            assert_eq!(*after.get().unwrap(), "after");
            assert_eq!(*also_after.get().unwrap(), "also after");
            after.trim(0);
        }
        assert_eq!(last.stats().created, 1);
        assert_eq!(also_after.stats().created, 1);
        assert_eq!(after.stats().created, 3, "trim(0) dropped it each time");
        assert_eq!(after.stats().reused, 0);
    })
    .join()
    .unwrap();
}

/// Counts its drops; panics in `drop` once armed.
struct Bomb {
    drops: Arc<AtomicUsize>,
    armed: bool,
}

impl Drop for Bomb {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
        if self.armed && !std::thread::panicking() {
            panic!("drop failure");
        }
    }
}

#[test]
fn a_panicking_drop_while_the_pool_drops_leaks_no_other_object() {
    // Found by the fuzz target `object_pool_model`: a panic in one idle
    // object's `Drop` during the pool's drop left the rest of that thread
    // cache (and the other slot buckets) undropped.
    std::panic::set_hook(Box::new(|_| {}));
    let drops = Arc::new(AtomicUsize::new(0));
    let made = Arc::clone(&drops);
    let pool = ObjectPool::builder(move || Bomb {
        drops: Arc::clone(&made),
        armed: false,
    })
    .thread_cache(8)
    .max_idle(16)
    .build()
    .unwrap();
    let mut held: Vec<_> = (0..4).map(|_| pool.get().unwrap()).collect();
    held[0].armed = true; // the oldest in this thread's cache once returned
    drop(held);
    assert_eq!(pool.idle(), 4);
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(pool))).is_err());
    let _ = std::panic::take_hook();
    assert_eq!(drops.load(SeqCst), 4, "every idle object dropped");
}

/// A clock the test moves by hand.
#[derive(Debug, Clone, Default)]
struct ManualClock(Arc<std::sync::Mutex<Option<std::time::Instant>>>);

impl ManualClock {
    fn advance(&self, secs: u64) {
        let mut now = self.0.lock().unwrap();
        let base = now.unwrap_or_else(std::time::Instant::now);
        *now = Some(base + std::time::Duration::from_secs(secs));
    }
}

impl crate::Clock for ManualClock {
    fn now(&self) -> std::time::Instant {
        *self
            .0
            .lock()
            .unwrap()
            .get_or_insert_with(std::time::Instant::now)
    }
}

#[test]
fn expiry_removes_objects_from_the_middle_of_a_thread_cache_once_each() {
    // Walks `CacheMut::remove_where` (a hit that finds expired objects, a
    // slow return that does) and the shared stack's `expire`, under Miri.
    let drops = Arc::new(AtomicUsize::new(0));
    let made = Arc::clone(&drops);
    let clock = ManualClock::default();
    let pool = ObjectPool::builder(move || Counted {
        drops: Arc::clone(&made),
        data: Vec::new(),
    })
    .idle_timeout(std::time::Duration::from_secs(30))
    .clock(clock.clone())
    .thread_cache(4)
    .max_idle(8)
    .build()
    .unwrap();
    let mut held: Vec<_> = (0..4).map(|_| pool.get().unwrap()).collect();
    let late = held.split_off(2);
    drop(held); // two in this thread's cache at t0
    clock.advance(20);
    drop(late); // two more on top at t20
    clock.advance(15); // t35: the two oldest expired, under fresher ones
    let object = pool.get().unwrap(); // a fresh hit: drops the expired two
    assert_eq!(pool.stats().discarded_expired, 2);
    assert_eq!(pool.idle(), 1);
    drop(object);
    clock.advance(40); // everything expired
    let held: Vec<_> = (0..6).map(|_| pool.get().unwrap()).collect();
    assert_eq!(pool.stats().discarded_expired, 4);
    drop(held); // slow returns look for expired objects too
    let stats = pool.stats();
    assert_eq!(stats.discarded_expired, 4, "{stats:?}");
    assert_eq!(drops.load(SeqCst) as u64, stats.discarded());
    assert_eq!(stats.created - stats.discarded(), pool.idle() as u64);
    drop(pool);
    assert_eq!(drops.load(SeqCst) as u64, stats.created);
}
