//! Single flight: N concurrent callers for a missing key run the loader
//! exactly once; a loader that fails or panics releases the waiters, who
//! retry, and poisons nothing.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use perfect21_lru::ConcurrentLru;

const CALLERS: usize = 8;

/// Spins (yielding) until `n` callers wait on a load; bounded.
fn until_waiting(cache: &ConcurrentLru<u32, Arc<String>>, n: u64) {
    for _ in 0..50_000_000 {
        if cache.stats().waiting >= n {
            return;
        }
        std::thread::yield_now();
    }
    panic!("{n} callers never started waiting");
}

fn cache() -> Arc<ConcurrentLru<u32, Arc<String>>> {
    Arc::new(ConcurrentLru::builder().max_entries(100).build().unwrap())
}

/// Runs `call(cache, runs, caller)` on CALLERS threads released at once;
/// their results, and how often the loaders ran (each loader counts itself
/// in `runs`).
fn race<T: Send + 'static>(
    cache: &Arc<ConcurrentLru<u32, Arc<String>>>,
    call: impl Fn(&ConcurrentLru<u32, Arc<String>>, &AtomicUsize, usize) -> T + Send + Sync + 'static,
) -> (Vec<T>, usize) {
    let runs = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(CALLERS));
    let call = Arc::new(call);
    let threads: Vec<_> = (0..CALLERS)
        .map(|t| {
            let (cache, runs, start, call) = (
                Arc::clone(cache),
                Arc::clone(&runs),
                Arc::clone(&start),
                Arc::clone(&call),
            );
            std::thread::spawn(move || {
                start.wait();
                call(&cache, &runs, t)
            })
        })
        .collect();
    let results = threads.into_iter().map(|t| t.join().unwrap()).collect();
    (results, runs.load(Ordering::SeqCst))
}

#[test]
fn concurrent_callers_run_the_loader_once_and_share_its_value() {
    let cache = cache();
    let (values, runs) = race(&cache, |cache, runs, t| {
        cache.get_or_insert_with(1, || {
            runs.fetch_add(1, Ordering::SeqCst);
            // Hold the load open until every other caller waits on it.
            until_waiting(cache, CALLERS as u64 - 1);
            Arc::new(format!("loaded by {t}"))
        })
    });
    assert_eq!(runs, 1);
    assert!(
        values.iter().all(|v| Arc::ptr_eq(v, &values[0])),
        "one shared value"
    );
    let stats = cache.stats();
    assert_eq!((stats.loads, stats.load_failures), (1, 0));
    assert_eq!((stats.hits, stats.misses), (CALLERS as u64 - 1, 1));
    assert_eq!(stats.waiting, 0);
    assert_eq!(cache.get(&1), Some(Arc::clone(&values[0])));
}

#[test]
fn a_panicking_loader_releases_the_waiters_who_retry() {
    let cache = cache();
    let (outcomes, runs) = race(&cache, |cache, runs, _| {
        catch_unwind(AssertUnwindSafe(|| {
            cache.get_or_insert_with(1, || {
                if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                    until_waiting(cache, CALLERS as u64 - 1);
                    panic!("the first loader fails");
                }
                Arc::new("second load".to_string())
            })
        }))
    });
    assert_eq!(
        outcomes.iter().filter(|o| o.is_err()).count(),
        1,
        "only the leader panicked"
    );
    assert!(
        outcomes
            .iter()
            .flatten()
            .all(|v| v.as_str() == "second load")
    );
    assert_eq!(runs, 2, "one failed run, one retry");
    let stats = cache.stats();
    assert_eq!((stats.loads, stats.load_failures), (2, 1));
    assert_eq!(stats.waiting, 0);
    // Nothing is poisoned: the key and the shard work as before.
    assert_eq!(
        cache.get(&1).as_deref().map(String::as_str),
        Some("second load")
    );
    cache.insert(2, Arc::new("two".into())).unwrap();
    assert_eq!(cache.len(), 2);
}

#[test]
fn a_failing_loader_returns_its_error_and_the_waiters_retry() {
    let cache = cache();
    let (outcomes, runs) = race(&cache, |cache, runs, _| {
        cache.try_get_or_insert_with(1, || {
            if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                until_waiting(cache, CALLERS as u64 - 1);
                return Err("backend down");
            }
            Ok(Arc::new("second load".to_string()))
        })
    });
    assert_eq!(
        outcomes.iter().filter(|o| o.is_err()).count(),
        1,
        "only the failing loader's caller sees its error"
    );
    assert!(
        outcomes
            .iter()
            .flatten()
            .all(|v| v.as_str() == "second load")
    );
    assert_eq!(runs, 2);
    let stats = cache.stats();
    assert_eq!((stats.loads, stats.load_failures), (2, 1));
    assert_eq!(stats.hits + stats.misses, CALLERS as u64);
    assert_eq!(stats.misses, 2, "the two callers that ran a loader");
}

#[test]
fn a_present_key_never_runs_the_loader() {
    let cache = cache();
    cache.insert(1, Arc::new("cached".into())).unwrap();
    let value = cache.get_or_insert_with(1, || unreachable!("must not load"));
    assert_eq!(value.as_str(), "cached");
    assert_eq!(cache.stats().loads, 0);
}

/// Regression (issue 15): the miss path registered its flight and then ran
/// the eviction listener (for the expired entry `lookup` had just
/// reclaimed) before anything owned the flight. A listener that panicked
/// there left the flight loading for ever: every later caller of the key
/// waited on it and never returned.
#[test]
fn a_listener_panic_before_the_load_does_not_block_the_key() {
    let clock = perfect21_lru::ManualClock::new();
    let cache: Arc<ConcurrentLru<u32, u32>> = Arc::new(
        ConcurrentLru::builder()
            .max_entries(100)
            .shards(1)
            .clock(clock.clone())
            .eviction_listener(|k: u32, _v: u32, cause| {
                if cause == perfect21_lru::EvictionCause::Expired {
                    panic!("listener fails on expired key {k}");
                }
            })
            .build()
            .unwrap(),
    );
    cache
        .insert_with_ttl(1, 10, std::time::Duration::from_secs(1))
        .unwrap();
    clock.advance(std::time::Duration::from_secs(2));
    let first = catch_unwind(AssertUnwindSafe(|| {
        cache.get_or_insert_with(1, || unreachable!("the listener panics first"))
    }));
    assert!(first.is_err(), "the listener's panic reaches the caller");
    // A second caller must load, not wait for a flight nobody will land.
    let second = {
        let cache = Arc::clone(&cache);
        std::thread::spawn(move || cache.get_or_insert_with(1, || 11))
    };
    while !second.is_finished() {
        assert_eq!(
            cache.stats().waiting,
            0,
            "a caller waits on a flight that no loader owns"
        );
        std::thread::yield_now();
    }
    assert_eq!(second.join().unwrap(), 11);
    let stats = cache.stats();
    assert_eq!(
        (stats.loads, stats.load_failures),
        (1, 0),
        "only the second caller's loader ran, and it succeeded"
    );
    assert_eq!((stats.misses, stats.expired), (2, 1));
    assert_eq!(cache.get(&1), Some(11));
}

/// Regression (issue 15): a listener that panicked after a successful load
/// (for the entry its insert evicted) counted the load twice, added a load
/// failure that never happened and sent the waiters back to load again.
#[test]
fn a_listener_panic_after_the_load_counts_one_successful_load() {
    let cache: Arc<ConcurrentLru<u32, u32>> = Arc::new(
        ConcurrentLru::builder()
            .max_entries(1)
            .shards(1)
            .eviction_listener(|k: u32, _v: u32, _cause| {
                if k == 1 {
                    panic!("listener fails on key 1");
                }
            })
            .build()
            .unwrap(),
    );
    cache.insert(1, 10).unwrap();
    let outcome = catch_unwind(AssertUnwindSafe(|| cache.get_or_insert_with(2, || 20)));
    assert!(outcome.is_err(), "the listener's panic reaches the caller");
    let stats = cache.stats();
    assert_eq!((stats.loads, stats.load_failures), (1, 0));
    assert_eq!((stats.inserts, stats.evicted_max_entries), (2, 1));
    // The loaded value is cached: the next caller hits, no second load.
    assert_eq!(cache.get_or_insert_with(2, || unreachable!("cached")), 20);
    assert_eq!(cache.stats().loads, 1);
}

/// A weigher that panics after the loader succeeded: the caller sees the
/// panic, the load counts once and as no failure, and nothing waits.
#[test]
fn a_weigher_panic_after_the_load_is_not_a_load_failure() {
    let cache: ConcurrentLru<u32, u32, _, _> = ConcurrentLru::builder()
        .max_weight(1000)
        .shards(1)
        .weigher(|_k: &u32, v: &u32| {
            assert!(*v != 666, "weigher fails on 666");
            u64::from(*v)
        })
        .build()
        .unwrap();
    let outcome = catch_unwind(AssertUnwindSafe(|| cache.get_or_insert_with(1, || 666)));
    assert!(outcome.is_err());
    let stats = cache.stats();
    assert_eq!((stats.loads, stats.load_failures, stats.waiting), (1, 0, 0));
    assert_eq!(cache.get_or_insert_with(1, || 7), 7, "the key loads again");
    assert_eq!(cache.stats().loads, 2);
}

/// A value whose `Clone` panics on threads that ask it to.
#[derive(Debug)]
struct Fragile(u32);

thread_local! {
    static CLONE_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl Clone for Fragile {
    fn clone(&self) -> Self {
        assert!(!CLONE_PANICS.get(), "clone fails on this thread");
        Fragile(self.0)
    }
}

/// Regression (issue 15 review): a waiter whose clone of the landed value
/// panicked skipped the decrement of `waiting`, which then stayed one too
/// high for good.
#[test]
fn a_waiter_whose_clone_panics_stops_counting_as_waiting() {
    let cache: Arc<ConcurrentLru<u32, Fragile>> =
        Arc::new(ConcurrentLru::builder().max_entries(100).build().unwrap());
    let (loading, inside) = std::sync::mpsc::channel();
    let leader = {
        let cache = Arc::clone(&cache);
        std::thread::spawn(move || {
            cache.get_or_insert_with(1, || {
                loading.send(()).unwrap();
                for _ in 0..50_000_000 {
                    if cache.stats().waiting >= 1 {
                        return Fragile(1);
                    }
                    std::thread::yield_now();
                }
                panic!("the waiter never started waiting");
            })
        })
    };
    inside.recv().unwrap();
    let waiter = {
        let cache = Arc::clone(&cache);
        std::thread::spawn(move || {
            CLONE_PANICS.set(true);
            catch_unwind(AssertUnwindSafe(|| {
                cache.get_or_insert_with(1, || unreachable!("the leader loads"))
            }))
            .is_err()
        })
    };
    assert!(waiter.join().unwrap(), "the waiter's clone panicked");
    assert_eq!(leader.join().unwrap().0, 1);
    let stats = cache.stats();
    assert_eq!(stats.waiting, 0, "nobody waits any more");
    assert_eq!((stats.loads, stats.load_failures), (1, 0));
}
