//! loom models of the single-flight protocol of `ConcurrentLru`: every
//! interleaving of two callers (at most two preemptions) runs the loader
//! exactly as often as it must, and a failed load releases the waiter.
//!
//! `RUSTFLAGS="--cfg perfect21_loom" LOOM_MAX_PREEMPTIONS=2 \
//!  cargo test -p perfect21-lru --release --test loom` (what `cargo xtask
//! test` runs).
#![cfg(perfect21_loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use perfect21_lru::ConcurrentLru;

fn cache() -> Arc<ConcurrentLru<u32, u32>> {
    Arc::new(
        ConcurrentLru::builder()
            .max_entries(64)
            .shards(1)
            .build()
            .unwrap(),
    )
}

#[test]
fn two_callers_run_one_loader() {
    loom::model(|| {
        let cache = cache();
        let runs = Arc::new(AtomicUsize::new(0));
        let other = {
            let (cache, runs) = (Arc::clone(&cache), Arc::clone(&runs));
            thread::spawn(move || {
                cache.get_or_insert_with(1, || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    10
                })
            })
        };
        let mine = cache.get_or_insert_with(1, || {
            runs.fetch_add(1, Ordering::SeqCst);
            10
        });
        let theirs = other.join().unwrap();
        assert_eq!((mine, theirs), (10, 10));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let stats = cache.stats();
        assert_eq!(
            (stats.loads, stats.hits, stats.misses, stats.waiting),
            (1, 1, 1, 0)
        );
    });
}

#[test]
fn a_failed_load_releases_the_other_caller() {
    loom::model(|| {
        let cache = cache();
        let runs = Arc::new(AtomicUsize::new(0));
        let load = |runs: &AtomicUsize| {
            if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                Err("first load fails")
            } else {
                Ok(20)
            }
        };
        let other = {
            let (cache, runs) = (Arc::clone(&cache), Arc::clone(&runs));
            thread::spawn(move || cache.try_get_or_insert_with(1, || load(&runs)))
        };
        let mine = cache.try_get_or_insert_with(1, || load(&runs));
        let theirs = other.join().unwrap();
        // Whoever loaded first got the error; the other loaded again.
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        let mut outcomes = [mine, theirs];
        outcomes.sort();
        assert_eq!(outcomes, [Ok(20), Err("first load fails")]);
        let stats = cache.stats();
        assert_eq!((stats.loads, stats.load_failures, stats.waiting), (2, 1, 0));
        assert_eq!(cache.peek(&1), Some(20));
    });
}
