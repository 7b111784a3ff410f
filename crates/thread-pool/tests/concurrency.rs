//! Many submitters at once: exact totals afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use perfect21_thread_pool::{RejectionPolicy, ThreadPool};

const SUBMITTERS: u64 = 8;
const TASKS: u64 = 100_000;

#[test]
fn eight_submitters_times_100k_tasks_all_complete() {
    let pool = ThreadPool::builder().max_threads(4).build().unwrap();
    let sum = Arc::new(AtomicU64::new(0));
    std::thread::scope(|scope| {
        for submitter in 0..SUBMITTERS {
            let (pool, sum) = (&pool, &sum);
            scope.spawn(move || {
                for task in 0..TASKS {
                    let sum = Arc::clone(sum);
                    pool.execute(move || {
                        sum.fetch_add(submitter * TASKS + task, SeqCst);
                    })
                    .unwrap();
                }
            });
        }
    });
    pool.wait_idle();
    let n = SUBMITTERS * TASKS;
    assert_eq!(
        sum.load(SeqCst),
        n * (n - 1) / 2,
        "each task ran exactly once"
    );
    let stats = pool.stats();
    assert_eq!((stats.submitted, stats.completed), (n, n));
    assert_eq!((stats.queued, stats.active, stats.panicked), (0, 0, 0));
    assert!(stats.peak_threads <= 4);
}

#[test]
fn eight_submitters_spawn_and_join() {
    let pool = ThreadPool::builder().max_threads(4).build().unwrap();
    let total: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..SUBMITTERS)
            .map(|submitter| {
                let pool = &pool;
                scope.spawn(move || {
                    let handles: Vec<_> = (0..10_000u64)
                        .map(|i| pool.spawn(move || submitter + i).unwrap())
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let expected: u64 = (0..SUBMITTERS)
        .map(|s| (0..10_000u64).map(|i| s + i).sum::<u64>())
        .sum();
    assert_eq!(total, expected);
}

#[test]
fn eight_submitters_on_a_small_blocking_queue_lose_nothing() {
    let pool = ThreadPool::builder()
        .max_threads(3)
        .queue_capacity(16)
        .rejection(RejectionPolicy::Block { timeout: None })
        .build()
        .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    std::thread::scope(|scope| {
        for _ in 0..SUBMITTERS {
            let (pool, done) = (&pool, &done);
            scope.spawn(move || {
                for _ in 0..20_000 {
                    let done = Arc::clone(done);
                    pool.execute(move || {
                        done.fetch_add(1, SeqCst);
                    })
                    .unwrap();
                }
            });
        }
    });
    pool.wait_idle();
    let n = SUBMITTERS * 20_000;
    assert_eq!(done.load(SeqCst), n);
    let stats = pool.stats();
    assert_eq!(
        (stats.submitted, stats.completed, stats.rejected),
        (n, n, 0)
    );
}

#[test]
fn tasks_that_submit_tasks_are_all_counted() {
    let pool = Arc::new(ThreadPool::builder().max_threads(4).build().unwrap());
    let done = Arc::new(AtomicU64::new(0));
    for _ in 0..100 {
        let (inner, done) = (Arc::clone(&pool), Arc::clone(&done));
        pool.execute(move || {
            for _ in 0..100 {
                let done = Arc::clone(&done);
                inner
                    .execute(move || {
                        done.fetch_add(1, SeqCst);
                    })
                    .unwrap();
            }
        })
        .unwrap();
    }
    pool.wait_idle();
    assert_eq!(done.load(SeqCst), 10_000);
    assert_eq!(pool.stats().completed, 10_100);
}
