//! Loom models of the shared structure: thread caches, the shared stack and
//! the idle budget between them. Each model runs the real `Core` code with
//! loom's atomics, mutex and `UnsafeCell` (which flags two threads inside
//! one slot's cache at once), and checks after every interleaving that no
//! object was lost or handed out twice, that idle objects never exceeded
//! `max_idle`, and that the counts are exact.
//!
//! Loom threads stand in for OS threads with explicit thread indices
//! (`Core::local_at`) and call `thread_exit` as their last act, as the
//! thread-local exit hook does.
//!
//! Run: `RUSTFLAGS="--cfg perfect21_loom" LOOM_MAX_PREEMPTIONS=2 cargo test
//! -p perfect21-object-pool --release --lib loom_tests`.

use std::collections::HashSet;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex as StdMutex};

use crate::core::Core;
use crate::entry::Boxed;
use crate::{ObjectPool, Reset};

/// Runs `f` under loom with room for the pool's bookkeeping loads.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let runs = Arc::new(StdAtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let mut builder = loom::model::Builder::new();
    builder.max_branches = 100_000;
    builder.check(move || {
        counted.fetch_add(1, SeqCst);
        f();
    });
    // Each model explores many interleavings, not one.
    assert!(
        runs.load(SeqCst) > 10,
        "explored {} interleavings",
        runs.load(SeqCst)
    );
    eprintln!("explored {} interleavings", runs.load(SeqCst));
}

/// Who holds which object: every token is in exactly one place.
#[derive(Default)]
struct Ledger {
    next_id: StdAtomicUsize,
    alive: StdMutex<HashSet<usize>>,
    in_use: StdMutex<HashSet<usize>>,
}

/// A pooled object that reports its birth, its loans and its death.
struct Token {
    id: usize,
    ledger: Arc<Ledger>,
    dirty: bool,
}

impl Token {
    fn new(ledger: &Arc<Ledger>) -> Self {
        let id = ledger.next_id.fetch_add(1, SeqCst);
        assert!(ledger.alive.lock().unwrap().insert(id));
        Token {
            id,
            ledger: Arc::clone(ledger),
            dirty: false,
        }
    }
}

impl Reset for Token {
    fn reset(&mut self) {
        self.dirty = false;
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        assert!(
            self.ledger.alive.lock().unwrap().remove(&self.id),
            "token {} dropped twice",
            self.id
        );
    }
}

fn pool(
    ledger: &Arc<Ledger>,
    max_idle: usize,
    thread_cache: usize,
    prefill: usize,
) -> ObjectPool<Token> {
    let ledger = Arc::clone(ledger);
    ObjectPool::builder(move || Token::new(&ledger))
        .reset(Reset::reset)
        .max_idle(max_idle)
        .thread_cache(thread_cache)
        .prefill(prefill)
        .build()
        .unwrap()
}

/// A pool of at most `max_total` objects alive, defaults otherwise.
fn capped_pool(ledger: &Arc<Ledger>, max_total: usize) -> ObjectPool<Token> {
    let ledger = Arc::clone(ledger);
    ObjectPool::builder(move || Token::new(&ledger))
        .reset(Reset::reset)
        .max_total(max_total)
        .build()
        .unwrap()
}

/// Thread `index`'s slot: each model thread uses its own index only.
fn local(core: &Core<Token>, index: usize) -> Option<crate::local::Owned<'_, Token>> {
    // SAFETY: every model thread passes its own index, used by no other
    // thread until that one's `thread_exit`.
    unsafe { core.local_at(index) }
}

/// A get on thread `index`: the object must not be on loan already.
fn get(core: &Core<Token>, index: usize, ledger: &Ledger) -> Boxed<Token> {
    let mut entry = core.acquire(local(core, index)).unwrap();
    assert!(!entry.value.dirty, "a get saw a previous user's state");
    entry.value.dirty = true;
    assert!(
        ledger.in_use.lock().unwrap().insert(entry.value.id),
        "token {} handed out twice",
        entry.value.id
    );
    entry
}

fn put(core: &Core<Token>, index: usize, ledger: &Ledger, entry: Boxed<Token>) {
    assert!(ledger.in_use.lock().unwrap().remove(&entry.value.id));
    core.release(entry, local(core, index));
}

/// After every thread finished (and flushed its cache on exit): the idle
/// budget equals the shared stack, idle ≤ max_idle, and every object ever
/// made is idle or was dropped and counted.
fn check_quiescent(pool: &ObjectPool<Token>, ledger: &Ledger) {
    let core = pool.core();
    let stats = pool.stats();
    let idle = pool.idle();
    assert_eq!(
        core.budget(),
        idle,
        "budget places = idle objects once caches are flushed"
    );
    assert!(idle <= pool.max_idle());
    assert_eq!(stats.idle, idle as u64);
    assert_eq!(stats.in_use, 0);
    let made = ledger.next_id.load(SeqCst) as u64;
    assert_eq!(stats.created, made);
    assert_eq!(
        ledger.alive.lock().unwrap().len() as u64,
        made - stats.discarded(),
        "every object is idle or was discarded"
    );
    assert_eq!(ledger.alive.lock().unwrap().len(), idle);
    assert!(ledger.in_use.lock().unwrap().is_empty());
}

#[test]
fn two_threads_share_a_tight_idle_budget() {
    model(|| {
        let ledger = Arc::new(Ledger::default());
        // Two idle places for two threads with caches of two: the budget,
        // not the caches, decides what is kept.
        let pool = pool(&ledger, 2, 2, 1);
        let threads: Vec<_> = (1..=2)
            .map(|index| {
                let core = Arc::clone(pool.core());
                let ledger = Arc::clone(&ledger);
                loom::thread::spawn(move || {
                    let a = get(&core, index, &ledger);
                    let b = get(&core, index, &ledger);
                    put(&core, index, &ledger, a);
                    put(&core, index, &ledger, b);
                    let c = get(&core, index, &ledger);
                    put(&core, index, &ledger, c);
                    crate::thread_id::ThreadExit::thread_exit(&*core, index);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        check_quiescent(&pool, &ledger);
        let stats = pool.stats();
        assert_eq!(
            stats.created + stats.reused,
            6 + 1,
            "six gets plus the prefilled object"
        );
        assert_eq!(stats.returned + stats.discarded_over_max_idle, 6);
        drop(pool);
        assert!(
            ledger.alive.lock().unwrap().is_empty(),
            "dropping the pool drops every idle object"
        );
    });
}

#[test]
fn objects_returned_on_another_thread_respect_the_budget() {
    model(|| {
        let ledger = Arc::new(Ledger::default());
        let pool = pool(&ledger, 1, 2, 0);
        let handoff: Arc<loom::sync::Mutex<Vec<Boxed<Token>>>> = Arc::default();
        let producer = {
            let core = Arc::clone(pool.core());
            let ledger = Arc::clone(&ledger);
            let handoff = Arc::clone(&handoff);
            loom::thread::spawn(move || {
                for _ in 0..2 {
                    let entry = get(&core, 1, &ledger);
                    handoff.lock().unwrap().push(entry);
                }
                crate::thread_id::ThreadExit::thread_exit(&*core, 1);
            })
        };
        let consumer = {
            let core = Arc::clone(pool.core());
            let ledger = Arc::clone(&ledger);
            let handoff = Arc::clone(&handoff);
            loom::thread::spawn(move || {
                for _ in 0..2 {
                    let taken = handoff.lock().unwrap().pop();
                    if let Some(entry) = taken {
                        put(&core, 2, &ledger, entry);
                    }
                }
                crate::thread_id::ThreadExit::thread_exit(&*core, 2);
            })
        };
        producer.join().unwrap();
        consumer.join().unwrap();
        // Whatever the consumer did not take, the main thread returns.
        let core = Arc::clone(pool.core());
        let left: Vec<_> = std::mem::take(&mut *handoff.lock().unwrap());
        for entry in left {
            put(&core, 3, &ledger, entry);
        }
        crate::thread_id::ThreadExit::thread_exit(&*core, 3);
        check_quiescent(&pool, &ledger);
        // One idle place: one object kept, every other one made dropped (the
        // producer's second get may have reused the first object).
        assert_eq!(pool.idle(), 1);
        let stats = pool.stats();
        assert_eq!(stats.discarded_over_max_idle, stats.created - 1);
    });
}

#[test]
fn trim_races_with_a_thread_cache() {
    model(|| {
        let ledger = Arc::new(Ledger::default());
        let pool = pool(&ledger, 4, 4, 2);
        let worker = {
            let core = Arc::clone(pool.core());
            let ledger = Arc::clone(&ledger);
            loom::thread::spawn(move || {
                let a = get(&core, 1, &ledger);
                put(&core, 1, &ledger, a);
                let b = get(&core, 1, &ledger);
                put(&core, 1, &ledger, b);
                crate::thread_id::ThreadExit::thread_exit(&*core, 1);
            })
        };
        pool.core().trim(0, None);
        worker.join().unwrap();
        check_quiescent(&pool, &ledger);
        let stats = pool.stats();
        assert_eq!(stats.returned, 2, "four idle places: both returns kept");
    });
}

/// A clock a model moves by hand (its std mutex is held for no loom step).
#[derive(Debug, Clone)]
struct StepClock(Arc<StdMutex<std::time::Instant>>);

impl crate::Clock for StepClock {
    fn now(&self) -> std::time::Instant {
        *self.0.lock().unwrap()
    }
}

#[test]
fn expiry_races_with_another_thread_cache() {
    // Reaches `remove_where` (thread caches) and `Shared::expire` while
    // another thread's cache spills and flushes.
    model(|| {
        let ledger = Arc::new(Ledger::default());
        let clock = StepClock(Arc::new(StdMutex::new(std::time::Instant::now())));
        let pool = {
            let ledger = Arc::clone(&ledger);
            ObjectPool::builder(move || Token::new(&ledger))
                .reset(Reset::reset)
                .max_idle(2)
                .thread_cache(2)
                .idle_timeout(std::time::Duration::from_secs(10))
                .clock(clock.clone())
                .build()
                .unwrap()
        };
        let worker = {
            let core = Arc::clone(pool.core());
            let ledger = Arc::clone(&ledger);
            let clock = clock.clone();
            loom::thread::spawn(move || {
                let a = get(&core, 1, &ledger);
                put(&core, 1, &ledger, a);
                *clock.0.lock().unwrap() += std::time::Duration::from_secs(10);
                let b = get(&core, 1, &ledger); // the cached one expired
                put(&core, 1, &ledger, b);
                crate::thread_id::ThreadExit::thread_exit(&*core, 1);
            })
        };
        let core = Arc::clone(pool.core());
        let c = get(&core, 2, &ledger);
        put(&core, 2, &ledger, c);
        crate::thread_id::ThreadExit::thread_exit(&*core, 2);
        worker.join().unwrap();
        check_quiescent(&pool, &ledger);
        let stats = pool.stats();
        assert_eq!(stats.created + stats.reused, 3);
        assert_eq!(
            stats.returned + stats.discarded_over_max_idle,
            3,
            "{stats:?}"
        );
    });
}

#[test]
fn a_capped_pool_never_has_more_than_max_total_alive() {
    // The shared path of a capped pool: `live` reserved and given back
    // under the lock, a refused get when every object is out, and the
    // notify on return (nobody waits here: blocking waits park the OS
    // thread, which loom cannot model).
    model(|| {
        let ledger = Arc::new(Ledger::default());
        let pool = capped_pool(&ledger, 1);
        let threads: Vec<_> = (1..=2)
            .map(|_| {
                let core = Arc::clone(pool.core());
                let ledger = Arc::clone(&ledger);
                loom::thread::spawn(move || {
                    let got = core.acquire(None);
                    if let Ok(mut entry) = got {
                        assert!(ledger.alive.lock().unwrap().len() <= 1, "over max_total");
                        assert!(ledger.in_use.lock().unwrap().insert(entry.value.id));
                        entry.value.dirty = true;
                        assert!(ledger.in_use.lock().unwrap().remove(&entry.value.id));
                        core.release(entry, None);
                        true
                    } else {
                        false
                    }
                })
            })
            .collect();
        let served: usize = threads
            .into_iter()
            .map(|t| usize::from(t.join().unwrap()))
            .sum();
        assert!(served >= 1, "one of two gets always finds the place");
        let stats = pool.stats();
        assert_eq!(stats.created, 1);
        assert_eq!(stats.exhausted, 2 - served as u64);
        assert_eq!((stats.in_use, stats.idle), (0, 1));
        // The place is free again.
        let entry = pool.core().acquire(None).unwrap();
        pool.core().release(entry, None);
    });
}

#[test]
fn a_waiting_get_on_a_capped_pool_is_woken_by_a_return() {
    // Gets that find every object out queue and park; each return notifies
    // the first under the same lock. A lost wake-up is a loom deadlock.
    model(|| {
        let ledger = Arc::new(Ledger::default());
        let pool = capped_pool(&ledger, 1);
        let held = pool.core().acquire(None).unwrap();
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let core = Arc::clone(pool.core());
                loom::thread::spawn(move || {
                    let mut entry = core
                        .acquire_timeout(std::time::Duration::from_secs(3600))
                        .unwrap();
                    assert!(!entry.value.dirty, "a get saw a previous user's state");
                    entry.value.dirty = true;
                    core.release(entry, None);
                })
            })
            .collect();
        let mut held = held;
        held.value.dirty = true;
        pool.core().release(held, None);
        for waiter in waiters {
            waiter.join().unwrap();
        }
        let stats = pool.stats();
        assert_eq!(stats.created, 1, "the one object was passed on");
        assert_eq!((stats.reused, stats.returned), (2, 3));
        assert_eq!((stats.in_use, stats.idle, stats.waiting), (0, 1, 0));
        assert!(stats.waits <= 2);
    });
}
