//! Shrinking: a thread above `min_threads` idle for `keep_alive` exits;
//! observed through the stats, polled with a deadline.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use perfect21_thread_pool::{Fixed, ThreadPool};

#[test]
fn idle_threads_above_min_retire_after_keep_alive() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let pool = {
        let stopped = Arc::clone(&stopped);
        ThreadPool::builder()
            .min_threads(1)
            .max_threads(4)
            .keep_alive(Duration::from_millis(20))
            .on_thread_stop(move || {
                stopped.fetch_add(1, SeqCst);
            })
            .build()
            .unwrap()
    };
    common::occupy(&pool, 4).open();
    let stats = common::eventually(&pool, "the pool to shrink to min_threads", |s| {
        s.threads == 1 && s.threads_retired == 3
    });
    assert_eq!((stats.threads_started, stats.peak_threads), (4, 4));
    assert_eq!(stats.completed, 4);
    // The stop hook runs as each thread exits, just after it retired.
    while stopped.load(SeqCst) < 3 {
        std::thread::yield_now();
    }
    // min_threads stays, however long the pool is idle: it still serves.
    assert_eq!(pool.spawn(|| 1).unwrap().join(), Ok(1));
    assert_eq!(pool.stats().threads_started, 4);
}

#[test]
fn a_pool_with_min_zero_shrinks_to_nothing_and_starts_again() {
    let pool = ThreadPool::builder()
        .min_threads(0)
        .max_threads(2)
        .keep_alive(Duration::from_millis(5))
        .build()
        .unwrap();
    common::occupy(&pool, 2).open();
    common::eventually(&pool, "every thread to retire", |s| s.threads == 0);
    assert_eq!(pool.spawn(|| "again").unwrap().join(), Ok("again"));
    let stats = pool.stats();
    assert_eq!(stats.threads_started, 3);
    assert_eq!(
        stats.threads_started - stats.threads_retired,
        stats.threads as u64
    );
}

#[test]
fn a_light_load_does_not_keep_extra_threads_alive() {
    // After a burst of 4, one task at a time keeps coming. The most
    // recently idle thread takes each one, so the other three reach their
    // keep-alive and retire while the load goes on.
    let pool = ThreadPool::builder()
        .min_threads(0)
        .max_threads(4)
        .keep_alive(Duration::from_millis(30))
        .build()
        .unwrap();
    common::occupy(&pool, 4).open();
    let mut served = 0u64;
    common::eventually(&pool, "the pool to shrink under a light load", |s| {
        served += 1;
        assert_eq!(pool.spawn(|| ()).unwrap().join(), Ok(()));
        s.threads <= 1
    });
    pool.wait_idle();
    assert_eq!(pool.stats().completed, 4 + served);
}

#[test]
fn fixed_threads_never_retire() {
    // A Fixed pool idle for longer than a default pool that has retired
    // everything with the same keep_alive still has all its threads.
    let keep_alive = Duration::from_millis(5);
    let fixed = ThreadPool::builder()
        .max_threads(3)
        .keep_alive(keep_alive)
        .scaling(Fixed)
        .build()
        .unwrap();
    common::occupy(&fixed, 3).open();
    fixed.wait_idle();
    let elastic = ThreadPool::builder()
        .max_threads(3)
        .keep_alive(keep_alive)
        .build()
        .unwrap();
    common::occupy(&elastic, 3).open();
    common::eventually(&elastic, "the default pool to retire its threads", |s| {
        s.threads == 0
    });
    let stats = fixed.stats();
    assert_eq!((stats.threads, stats.threads_retired), (3, 0));
}
