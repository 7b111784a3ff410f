//! A full queue under each rejection policy, and submissions after
//! shutdown: nothing is lost — a refused task comes back.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use perfect21_thread_pool::{Error, RejectionPolicy, ThreadPool};

/// One thread, busy on a gate; a queue of `capacity`, filled.
fn full_pool(rejection: RejectionPolicy, capacity: usize) -> (ThreadPool, Arc<common::Gate>) {
    let pool = ThreadPool::builder()
        .min_threads(1)
        .max_threads(1)
        .queue_capacity(capacity)
        .rejection(rejection)
        .build()
        .unwrap();
    let gate = common::occupy(&pool, 1);
    for _ in 0..capacity {
        pool.execute(|| ()).unwrap();
    }
    assert_eq!(pool.stats().queued, capacity);
    (pool, gate)
}

#[test]
fn reject_hands_the_task_back() {
    let (pool, gate) = full_pool(RejectionPolicy::Reject, 2);
    let ran = Arc::new(AtomicBool::new(false));
    let task = {
        let ran = Arc::clone(&ran);
        move || ran.store(true, SeqCst)
    };
    let refused = pool.execute(task).unwrap_err();
    assert_eq!(refused.error(), &Error::QueueFull { capacity: 2 });
    assert_eq!(
        refused.to_string(),
        "task rejected: the queue is full (2 tasks)"
    );
    // The very closure comes back, unrun.
    assert!(!ran.load(SeqCst));
    (refused.into_task())();
    assert!(ran.load(SeqCst));

    let refused = pool.spawn(|| 7).unwrap_err();
    assert_eq!((refused.into_task())(), 7);

    gate.open();
    pool.wait_idle();
    let stats = pool.stats();
    assert_eq!(
        (stats.rejected, stats.submitted, stats.completed),
        (2, 3, 3)
    );
}

#[test]
fn caller_runs_runs_the_task_on_the_submitting_thread() {
    let (pool, gate) = full_pool(RejectionPolicy::CallerRuns, 1);
    let here = std::thread::current().id();
    let handle = pool
        .spawn(move || std::thread::current().id() == here)
        .unwrap();
    assert!(handle.is_finished(), "ran before spawn returned");
    assert_eq!(handle.join(), Ok(true));

    // A panic in a caller-run task reaches its handle; the caller goes on.
    let handle = pool.spawn(|| -> u8 { panic!("on the caller") }).unwrap();
    assert_eq!(
        handle.join(),
        Err(perfect21_thread_pool::TaskError::Panicked(
            "on the caller".into()
        ))
    );

    gate.open();
    pool.wait_idle();
    let stats = pool.stats();
    assert_eq!(stats.caller_runs, 2);
    assert_eq!(stats.submitted, 4);
    assert_eq!((stats.completed, stats.panicked, stats.rejected), (3, 1, 0));
}

#[test]
fn block_waits_for_a_place() {
    let (pool, gate) = full_pool(RejectionPolicy::Block { timeout: None }, 1);
    let pool = Arc::new(pool);
    let submitted = Arc::new(AtomicBool::new(false));
    let submitter = {
        let submitted = Arc::clone(&submitted);
        common::on_thread(&pool, move |pool| {
            let result = pool.spawn(|| "third").map_err(|e| e.into_error());
            submitted.store(true, SeqCst);
            result
        })
    };
    common::eventually(&pool, "the submitter to block", |s| {
        s.blocked_submitters == 1
    });
    assert!(
        !submitted.load(SeqCst),
        "it returned while the queue was full"
    );
    gate.open();
    let handle = submitter.join().unwrap().unwrap();
    assert_eq!(handle.join(), Ok("third"));
    let stats = pool.stats();
    assert_eq!((stats.rejected, stats.blocked_submitters), (0, 0));
}

#[test]
fn block_with_a_timeout_gives_up_and_hands_the_task_back() {
    let (pool, gate) = full_pool(
        RejectionPolicy::Block {
            timeout: Some(Duration::from_millis(20)),
        },
        1,
    );
    let refused = pool.spawn(|| 1).unwrap_err();
    match refused.error() {
        Error::Timeout { waited, capacity } => {
            assert_eq!(*capacity, 1);
            assert!(*waited >= Duration::from_millis(20), "{waited:?}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!((refused.into_task())(), 1);
    gate.open();
    pool.wait_idle();
    assert_eq!(pool.stats().rejected, 1);
}

#[test]
fn shutdown_wakes_blocked_submitters_with_their_task() {
    let (pool, gate) = full_pool(RejectionPolicy::Block { timeout: None }, 1);
    let pool = Arc::new(pool);
    let submitter = common::on_thread(&pool, |pool| {
        pool.execute(|| ()).map_err(|e| e.into_error())
    });
    common::eventually(&pool, "the submitter to block", |s| {
        s.blocked_submitters == 1
    });
    let stopper = common::on_thread(&pool, ThreadPool::shutdown_now);
    assert_eq!(submitter.join().unwrap(), Err(Error::ShutDown));
    // The queued task is cancelled (the busy thread is let go only then:
    // otherwise it could run the task first).
    common::eventually(&pool, "the queued task to be cancelled", |s| {
        s.cancelled == 1
    });
    gate.open();
    stopper.join().unwrap();
    let stats = pool.stats();
    assert_eq!(
        (stats.rejected, stats.cancelled, stats.completed),
        (1, 1, 1)
    );
}

#[test]
fn submissions_after_shutdown_are_refused_with_the_task() {
    let pool = ThreadPool::builder().max_threads(1).build().unwrap();
    pool.shutdown();
    assert!(pool.is_shut_down());
    let count = Arc::new(AtomicUsize::new(0));
    let task = {
        let count = Arc::clone(&count);
        move || {
            count.fetch_add(1, SeqCst);
        }
    };
    let refused = pool.execute(task).unwrap_err();
    assert_eq!(refused.error(), &Error::ShutDown);
    (refused.into_task())();
    assert_eq!(count.load(SeqCst), 1);
    assert!(matches!(
        pool.spawn(|| ()).map_err(|e| e.into_error()),
        Err(Error::ShutDown)
    ));
    assert_eq!(pool.stats().rejected, 2);
}
