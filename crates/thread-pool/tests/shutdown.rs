//! Shutdown runs every queued task exactly once; shutdown_now cancels;
//! wait_idle waits for everything; Drop is a graceful shutdown.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use perfect21_thread_pool::{TaskError, ThreadPool};

const QUEUED: usize = 1000;

fn two_threads() -> ThreadPool {
    ThreadPool::builder()
        .min_threads(2)
        .max_threads(2)
        .build()
        .unwrap()
}

/// Queues `QUEUED` tasks behind two busy threads; each marks its own slot.
fn queue_marked(pool: &ThreadPool) -> (Arc<common::Gate>, Arc<Vec<AtomicU8>>) {
    let gate = common::occupy(pool, 2);
    let slots: Arc<Vec<AtomicU8>> = Arc::new((0..QUEUED).map(|_| AtomicU8::new(0)).collect());
    for i in 0..QUEUED {
        let slots = Arc::clone(&slots);
        pool.execute(move || {
            slots[i].fetch_add(1, SeqCst);
        })
        .unwrap();
    }
    assert_eq!(pool.stats().queued, QUEUED);
    (gate, slots)
}

fn assert_each_ran_once(slots: &[AtomicU8]) {
    for (i, slot) in slots.iter().enumerate() {
        assert_eq!(slot.load(SeqCst), 1, "task {i}");
    }
}

#[test]
fn shutdown_runs_every_queued_task_exactly_once() {
    let pool = Arc::new(two_threads());
    let (gate, slots) = queue_marked(&pool);
    let stopper = common::on_thread(&pool, ThreadPool::shutdown);
    while !pool.is_shut_down() {
        std::thread::yield_now();
    }
    assert!(pool.execute(|| ()).is_err(), "closed to new tasks");
    gate.open();
    stopper.join().unwrap();
    assert_each_ran_once(&slots);
    let stats = pool.stats();
    assert_eq!(stats.completed, QUEUED as u64 + 2);
    assert_eq!((stats.threads, stats.queued, stats.cancelled), (0, 0, 0));
    assert_eq!(stats.threads_started, stats.threads_retired);
}

#[test]
fn dropping_the_pool_runs_every_queued_task() {
    let pool = Arc::new(two_threads());
    let (gate, slots) = queue_marked(&pool);
    // The gate opens once the drop has begun (the pool can no longer be
    // reached): the queued tasks are still queued then.
    let watcher = {
        let pool = Arc::downgrade(&pool);
        std::thread::spawn(move || {
            while pool.upgrade().is_some() {
                std::thread::yield_now();
            }
            gate.open();
        })
    };
    drop(pool);
    watcher.join().unwrap();
    assert_each_ran_once(&slots);
}

#[test]
fn shutdown_now_cancels_the_queued_tasks() {
    let pool = Arc::new(two_threads());
    let gate = common::occupy(&pool, 2);
    let ran = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let ran = Arc::clone(&ran);
            pool.spawn(move || ran.store(true, SeqCst)).unwrap()
        })
        .collect();
    let stopper = common::on_thread(&pool, ThreadPool::shutdown_now);
    // Cancelled before the running tasks are let go.
    common::eventually(&pool, "the queued tasks to be cancelled", |s| {
        s.cancelled == 10
    });
    for handle in &handles {
        assert!(handle.is_finished());
    }
    gate.open();
    stopper.join().unwrap();
    for handle in handles {
        assert_eq!(handle.join(), Err(TaskError::Cancelled));
    }
    assert!(!ran.load(SeqCst));
    let stats = pool.stats();
    assert_eq!(
        (stats.completed, stats.cancelled, stats.submitted),
        (2, 10, 12)
    );
}

#[test]
fn a_cancelled_task_whose_drop_panics_is_survived() {
    let pool = Arc::new(two_threads());
    let gate = common::occupy(&pool, 2);
    let grenade = common::Grenade;
    pool.execute(move || drop(grenade)).unwrap();
    let opener = common::on_thread(&pool, move |pool| {
        common::eventually(pool, "the task to be cancelled", |s| s.cancelled == 1);
        gate.open();
    });
    pool.shutdown_now();
    opener.join().unwrap();
    let stats = pool.stats();
    assert_eq!((stats.cancelled, stats.completed, stats.threads), (1, 2, 0));
}

#[test]
fn wait_idle_waits_for_queued_and_running_tasks() {
    let pool = ThreadPool::builder().max_threads(4).build().unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    for _ in 0..QUEUED {
        let done = Arc::clone(&done);
        pool.execute(move || {
            done.fetch_add(1, SeqCst);
        })
        .unwrap();
    }
    pool.wait_idle();
    assert_eq!(done.load(SeqCst), QUEUED);
    let stats = pool.stats();
    assert_eq!(
        (stats.queued, stats.active, stats.completed),
        (0, 0, QUEUED as u64)
    );
}

#[test]
fn wait_idle_timeout_reports_a_busy_pool() {
    let pool = two_threads();
    let gate = common::occupy(&pool, 1);
    assert!(!pool.wait_idle_timeout(Duration::from_millis(10)));
    gate.open();
    assert!(pool.wait_idle_timeout(common::DEADLINE));
}

#[test]
fn shutdown_is_idempotent_and_concurrent_calls_all_return() {
    let pool = Arc::new(two_threads());
    let gate = common::occupy(&pool, 2);
    let stoppers: Vec<_> = (0..3)
        .map(|_| common::on_thread(&pool, ThreadPool::shutdown))
        .collect();
    gate.open();
    for stopper in stoppers {
        stopper.join().unwrap();
    }
    pool.shutdown();
    pool.shutdown_now();
    assert_eq!(pool.stats().threads, 0);
}

#[test]
fn a_task_can_shut_its_own_pool_down() {
    let pool = Arc::new(two_threads());
    let (gate, slots) = queue_marked(&pool);
    let inner = Arc::clone(&pool);
    // Queued behind the others: it runs after them or beside the last.
    let handle = pool
        .spawn(move || {
            inner.shutdown();
            inner.stats().threads
        })
        .unwrap();
    gate.open();
    // The calling worker is the one thread left when its shutdown returns.
    assert_eq!(handle.join(), Ok(1));
    assert_each_ran_once(&slots);
    pool.shutdown();
    assert_eq!(pool.stats().threads, 0);
}

#[test]
fn the_last_reference_dropped_inside_a_task_does_not_deadlock() {
    let pool = Arc::new(two_threads());
    let finished = Arc::new(AtomicBool::new(false));
    let (inner, flag) = (Arc::clone(&pool), Arc::clone(&finished));
    let gate = common::Gate::new();
    let task_gate = Arc::clone(&gate);
    pool.execute(move || {
        task_gate.wait();
        drop(inner); // the last reference: a shutdown from inside the pool
        flag.store(true, SeqCst);
    })
    .unwrap();
    drop(pool);
    gate.open();
    let deadline = std::time::Instant::now() + common::DEADLINE;
    while !finished.load(SeqCst) {
        assert!(
            std::time::Instant::now() < deadline,
            "the task never finished"
        );
        std::thread::yield_now();
    }
}
