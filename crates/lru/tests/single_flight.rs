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
