//! Task handles: blocking join, non-blocking checks, detaching, and
//! awaiting from an async runtime (tokio here; the handle needs none).

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};

use perfect21_thread_pool::{TaskError, ThreadPool};

fn pool() -> ThreadPool {
    ThreadPool::builder().max_threads(4).build().unwrap()
}

#[test]
fn try_join_and_is_finished_never_block() {
    let pool = pool();
    let gate = common::occupy(&pool, 1);
    let task_gate = Arc::clone(&gate);
    let mut handle = pool
        .spawn(move || {
            task_gate.wait();
            "done"
        })
        .unwrap();
    assert!(!handle.is_finished());
    assert_eq!(handle.try_join(), None);
    gate.open();
    while !handle.is_finished() {
        std::thread::yield_now();
    }
    assert_eq!(handle.try_join(), Some(Ok("done")));
    assert_eq!(handle.try_join(), Some(Err(TaskError::AlreadyTaken)));
    assert_eq!(handle.join(), Err(TaskError::AlreadyTaken));
}

#[test]
fn a_dropped_handle_detaches_the_task_which_still_runs() {
    let pool = pool();
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..100 {
        let ran = Arc::clone(&ran);
        drop(pool.spawn(move || ran.fetch_add(1, SeqCst)).unwrap());
    }
    pool.wait_idle();
    assert_eq!(ran.load(SeqCst), 100);
    assert_eq!(pool.stats().completed, 100);
}

#[test]
fn handles_are_awaited_from_a_current_thread_runtime() {
    let pool = pool();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let total = runtime.block_on(async {
        let handles: Vec<_> = (0..100u64)
            .map(|i| pool.spawn(move || i * i).unwrap())
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..100u64).map(|i| i * i).sum::<u64>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handles_are_awaited_from_tokio_tasks() {
    let pool = Arc::new(pool());
    let tasks: Vec<_> = (0..8u64)
        .map(|i| {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { pool.spawn(move || i + 1).unwrap().await })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.unwrap().unwrap();
    }
    assert_eq!(sum, 36);
    let panicked = pool.spawn(|| -> u8 { panic!("async side") }).unwrap().await;
    assert_eq!(panicked, Err(TaskError::Panicked("async side".into())));
}

#[tokio::test]
async fn an_awaited_handle_wakes_its_task_when_the_work_ends() {
    // The task is pending when first polled: the wake-up must come from
    // the worker, not from a re-poll.
    let pool = pool();
    let gate = common::Gate::new();
    let task_gate = Arc::clone(&gate);
    let handle = pool
        .spawn(move || {
            task_gate.wait();
            11
        })
        .unwrap();
    let opener = std::thread::spawn(move || gate.open());
    assert_eq!(handle.await, Ok(11));
    opener.join().unwrap();
}

#[test]
fn a_pending_handle_stores_the_waker_and_a_finished_one_is_ready_once() {
    let pool = pool();
    let gate = common::occupy(&pool, 1);
    let task_gate = Arc::clone(&gate);
    let handle = pool
        .spawn(move || {
            task_gate.wait();
            5
        })
        .unwrap();
    let woken = Arc::new(WakeCount(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&woken));
    let mut cx = Context::from_waker(&waker);
    let mut handle = pin!(handle);
    assert_eq!(handle.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(
        handle.as_mut().poll(&mut cx),
        Poll::Pending,
        "re-polled, same waker"
    );
    gate.open();
    while woken.0.load(SeqCst) == 0 {
        std::thread::yield_now();
    }
    assert_eq!(woken.0.load(SeqCst), 1);
    assert_eq!(handle.as_mut().poll(&mut cx), Poll::Ready(Ok(5)));
    assert_eq!(
        handle.as_mut().poll(&mut cx),
        Poll::Ready(Err(TaskError::AlreadyTaken))
    );
}

struct WakeCount(AtomicUsize);

impl std::task::Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}
