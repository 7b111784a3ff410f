//! Panics in tasks reach their handle or the panic handler; the worker
//! survives and every count stays exact.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use perfect21_thread_pool::{TaskError, ThreadPool, panic_message};

fn one_thread() -> ThreadPool {
    ThreadPool::builder()
        .min_threads(1)
        .max_threads(1)
        .build()
        .unwrap()
}

#[test]
fn a_panic_reaches_the_handle_with_its_message() {
    let pool = one_thread();
    let h = pool.spawn(|| -> u8 { panic!("boom") }).unwrap();
    assert_eq!(h.join(), Err(TaskError::Panicked("boom".into())));
    let h = pool.spawn(|| -> u8 { panic!("code {}", 42) }).unwrap();
    assert_eq!(h.join(), Err(TaskError::Panicked("code 42".into())));
    let h = pool
        .spawn(|| -> u8 { std::panic::panic_any(17u32) })
        .unwrap();
    match h.join() {
        Err(TaskError::Panicked(message)) => assert!(message.contains("not a string"), "{message}"),
        other => panic!("expected a panic, got {other:?}"),
    }
    // A handle learns the outcome as the task ends, the counters just
    // after: wait for the worker before reading them.
    pool.wait_idle();
    assert_eq!(pool.stats().panicked, 3);
}

#[test]
fn the_worker_survives_its_tasks_panics() {
    let pool = one_thread();
    let name = |pool: &ThreadPool| {
        pool.spawn(|| std::thread::current().name().map(str::to_string))
            .unwrap()
            .join()
            .unwrap()
    };
    let before = name(&pool);
    for _ in 0..10 {
        let _ = pool.spawn(|| -> u8 { panic!("again") }).unwrap().join();
    }
    assert_eq!(
        name(&pool),
        before,
        "the same thread serves after the panics"
    );
    pool.wait_idle();
    let stats = pool.stats();
    assert_eq!((stats.threads, stats.threads_started), (1, 1));
    assert_eq!((stats.panicked, stats.completed), (10, 2));
}

/// Panic messages a handler received, each with whether it ran on a pool
/// thread.
type Received = Arc<Mutex<Vec<(String, bool)>>>;

/// A pool whose panic handler records what it receives.
fn recording_pool() -> (ThreadPool, Received) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let pool = {
        let seen = Arc::clone(&seen);
        ThreadPool::builder()
            .min_threads(1)
            .max_threads(1)
            .thread_name("recorded")
            .panic_handler(move |payload| {
                let on_pool = std::thread::current()
                    .name()
                    .is_some_and(|n| n.starts_with("recorded-"));
                seen.lock()
                    .unwrap()
                    .push((panic_message(payload.as_ref()), on_pool));
            })
            .build()
            .unwrap()
    };
    (pool, seen)
}

#[test]
fn execute_panics_go_to_the_panic_handler() {
    let (pool, seen) = recording_pool();
    pool.execute(|| panic!("fire and forget")).unwrap();
    pool.wait_idle();
    assert_eq!(
        *seen.lock().unwrap(),
        [("fire and forget".to_string(), true)]
    );
    assert_eq!(pool.stats().panicked, 1);
}

#[test]
fn a_detached_tasks_panic_goes_to_the_panic_handler() {
    let (pool, seen) = recording_pool();
    let gate = common::occupy(&pool, 1);
    let handle = pool
        .spawn(|| -> u8 { panic!("nobody is listening") })
        .unwrap();
    drop(handle);
    gate.open();
    pool.wait_idle();
    assert_eq!(
        *seen.lock().unwrap(),
        [("nobody is listening".to_string(), true)]
    );
}

#[test]
fn a_panic_with_a_live_handle_does_not_reach_the_handler() {
    let (pool, seen) = recording_pool();
    let handle = pool.spawn(|| -> u8 { panic!("mine") }).unwrap();
    assert!(handle.join().is_err());
    pool.wait_idle();
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn a_panicking_panic_handler_is_survived() {
    let pool = ThreadPool::builder()
        .max_threads(1)
        .panic_handler(|_| panic!("the handler too"))
        .build()
        .unwrap();
    pool.execute(|| panic!("first")).unwrap();
    assert_eq!(pool.spawn(|| 3).unwrap().join(), Ok(3));
    pool.wait_idle();
    let stats = pool.stats();
    assert_eq!(
        (stats.panicked, stats.completed, stats.threads_started),
        (1, 1, 1)
    );
}

#[test]
fn a_detached_value_whose_drop_panics_is_caught() {
    let pool = one_thread();
    let gate = common::occupy(&pool, 1);
    drop(pool.spawn(|| common::Grenade).unwrap());
    gate.open();
    pool.wait_idle();
    assert_eq!(pool.spawn(|| 1).unwrap().join(), Ok(1));
    pool.wait_idle();
    let stats = pool.stats();
    assert_eq!((stats.threads, stats.threads_started), (1, 1));
    assert_eq!(stats.finished(), 3);
}

#[test]
fn counts_stay_exact_with_panics_mixed_in() {
    let pool = ThreadPool::builder()
        .max_threads(4)
        .panic_handler(|_| ())
        .build()
        .unwrap();
    let ok = Arc::new(AtomicUsize::new(0));
    for i in 0..1000 {
        let ok = Arc::clone(&ok);
        pool.execute(move || {
            if i % 3 == 0 {
                panic!("task {i}");
            }
            ok.fetch_add(1, SeqCst);
        })
        .unwrap();
    }
    pool.wait_idle();
    let stats = pool.stats();
    assert_eq!(stats.panicked, 334);
    assert_eq!(stats.completed, 666);
    assert_eq!(ok.load(SeqCst), 666);
    assert_eq!(stats.submitted, 1000);
}
