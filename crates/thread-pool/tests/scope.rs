//! Scoped tasks from outside the library's own unit tests: nested spawns,
//! a panicking scope body, many tasks over borrowed data.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use perfect21_thread_pool::ThreadPool;

#[test]
fn scoped_tasks_sum_a_borrowed_slice() {
    let pool = ThreadPool::builder().max_threads(4).build().unwrap();
    let data: Vec<u64> = (1..=10_000).collect();
    let total: u64 = pool.scope(|s| {
        let handles: Vec<_> = data
            .chunks(1000)
            .map(|chunk| s.spawn(move || chunk.iter().sum::<u64>()).unwrap())
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(total, 10_000 * 10_001 / 2);
}

#[test]
fn a_scoped_task_can_spawn_into_its_scope() {
    let pool = ThreadPool::builder().max_threads(4).build().unwrap();
    let count = AtomicUsize::new(0);
    pool.scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..4 {
                    s.spawn(|| count.fetch_add(1, SeqCst)).unwrap();
                }
            })
            .unwrap();
        }
    });
    assert_eq!(count.load(SeqCst), 16);
}

#[test]
fn a_panicking_scope_body_still_waits_for_its_tasks() {
    let pool = ThreadPool::builder().max_threads(2).build().unwrap();
    let count = AtomicUsize::new(0);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s| {
            for _ in 0..50 {
                s.spawn(|| count.fetch_add(1, SeqCst)).unwrap();
            }
            panic!("the body");
        })
    }));
    assert!(outcome.is_err());
    assert_eq!(
        count.load(SeqCst),
        50,
        "every task finished before the panic resumed"
    );
}
