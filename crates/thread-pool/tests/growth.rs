//! Growth: a task that finds no idle worker starts a thread at once (below
//! `max_threads`); the scaling policy can say otherwise.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use perfect21_thread_pool::{BacklogDoubling, Fixed, Load, ScalingPolicy, ThreadPool};

#[test]
fn eight_tasks_on_a_barrier_all_run_at_once() {
    // min 1, max 8: the barrier releases only if all 8 tasks run at the
    // same time, i.e. the pool grew to 8 threads while they waited.
    let pool = ThreadPool::builder()
        .min_threads(1)
        .max_threads(8)
        .build()
        .unwrap();
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            pool.spawn(move || {
                barrier.wait();
                i
            })
            .unwrap()
        })
        .collect();
    let values: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(values, (0..8).collect::<Vec<_>>());
    let stats = pool.stats();
    assert_eq!((stats.threads_started, stats.peak_threads), (8, 8));
}

#[test]
fn max_threads_is_never_exceeded() {
    // Eight tasks hold every thread; a ninth waits in the queue.
    let pool = ThreadPool::builder()
        .min_threads(0)
        .max_threads(8)
        .build()
        .unwrap();
    let gate = common::occupy(&pool, 8);
    let ninth = pool.spawn(|| "ran").unwrap();
    let stats = common::eventually(&pool, "the ninth task to be queued", |s| s.queued == 1);
    assert_eq!((stats.threads, stats.active, stats.peak_threads), (8, 8, 8));
    assert!(!ninth.is_finished());
    gate.open();
    assert_eq!(ninth.join(), Ok("ran"));
    assert_eq!(pool.stats().threads_started, 8);
}

#[test]
fn a_pool_with_no_thread_starts_one_for_the_first_task() {
    let pool = ThreadPool::builder()
        .min_threads(0)
        .max_threads(2)
        .build()
        .unwrap();
    assert_eq!(pool.stats().threads, 0);
    assert_eq!(pool.spawn(|| 5).unwrap().join(), Ok(5));
    assert_eq!(pool.stats().threads_started, 1);
}

#[test]
fn an_idle_worker_is_used_before_a_new_thread_starts() {
    let pool = ThreadPool::builder()
        .min_threads(1)
        .max_threads(8)
        .build()
        .unwrap();
    for i in 0..200 {
        // One task at a time: the one thread is always idle when it comes.
        assert_eq!(pool.spawn(move || i).unwrap().join(), Ok(i));
        pool.wait_idle();
    }
    assert_eq!(pool.stats().threads_started, 1);
}

#[test]
fn the_fixed_policy_never_grows() {
    let pool = ThreadPool::builder()
        .max_threads(2)
        .scaling(Fixed)
        .build()
        .unwrap();
    let gate = common::occupy(&pool, 2);
    let third = pool.spawn(|| 3).unwrap();
    common::eventually(&pool, "the third task to be queued", |s| s.queued == 1);
    gate.open();
    assert_eq!(third.join(), Ok(3));
    assert_eq!(pool.stats().threads_started, 2);
}

/// A policy that never grows and panics when asked to retire; it counts
/// the questions.
#[derive(Debug, Default, Clone)]
struct Stubborn {
    grow_asked: Arc<AtomicUsize>,
    retire_asked: Arc<AtomicUsize>,
}

impl ScalingPolicy for Stubborn {
    fn grow(&self, _: &Load) -> bool {
        self.grow_asked.fetch_add(1, SeqCst);
        false
    }
    fn retire(&self, _: &Load) -> bool {
        self.retire_asked.fetch_add(1, SeqCst);
        panic!("retire is not implemented")
    }
}

#[test]
fn a_custom_policy_decides_growth_and_a_panicking_one_counts_as_no() {
    let policy = Stubborn::default();
    let pool = ThreadPool::builder()
        .min_threads(0)
        .max_threads(4)
        .keep_alive(Duration::ZERO)
        .scaling(policy.clone())
        .build()
        .unwrap();
    let gate = common::occupy(&pool, 1);
    let queued: Vec<_> = (0..3).map(|i| pool.spawn(move || i).unwrap()).collect();
    let stats = common::eventually(&pool, "three tasks queued", |s| s.queued == 3);
    assert_eq!(stats.threads, 1, "the policy said no: no thread started");
    gate.open();
    for (i, handle) in queued.into_iter().enumerate() {
        assert_eq!(handle.join(), Ok(i));
    }
    assert!(policy.grow_asked.load(SeqCst) >= 3);
    // keep_alive 0: the idle thread asks to retire, the policy panics, the
    // thread stays.
    while policy.retire_asked.load(SeqCst) == 0 {
        std::thread::yield_now();
    }
    assert_eq!(
        pool.spawn(|| "still here").unwrap().join(),
        Ok("still here")
    );
    let stats = pool.stats();
    assert_eq!((stats.threads, stats.threads_started), (1, 1));
}

#[test]
fn the_backlog_doubling_policy_grows_once_per_cooldown() {
    // The guide's rule with a cooldown longer than the test: one doubling
    // (1 → 2 threads), then the backlog waits.
    let pool = ThreadPool::builder()
        .min_threads(1)
        .max_threads(8)
        .scaling(BacklogDoubling::new(Duration::from_secs(3600)))
        .build()
        .unwrap();
    let gate = common::Gate::new();
    for _ in 0..8 {
        let gate = Arc::clone(&gate);
        pool.execute(move || gate.wait()).unwrap();
    }
    let stats = common::eventually(&pool, "two running, six queued", |s| {
        s.active == 2 && s.queued == 6
    });
    assert_eq!(stats.threads, 2);
    gate.open();
    pool.wait_idle();
    assert_eq!(pool.stats().completed, 8);
    assert_eq!(pool.stats().threads_started, 2);
}

#[test]
fn backlog_doubling_decisions_follow_its_cooldown() {
    let policy = BacklogDoubling::new(Duration::from_secs(30));
    let t0 = Instant::now();
    let at = |secs: u64| t0 + Duration::from_secs(secs);
    // threads, idle, queued, min, max, now
    assert!(
        policy.grow(&Load::new(2, 0, 5, 2, 16, at(0))),
        "first backlog doubles 2 → 4"
    );
    assert_eq!(policy.target(), 4);
    assert!(
        policy.grow(&Load::new(3, 0, 5, 2, 16, at(1))),
        "fills up to the target"
    );
    assert!(
        !policy.grow(&Load::new(4, 0, 5, 2, 16, at(2))),
        "at target, cooling down"
    );
    assert!(
        policy.grow(&Load::new(4, 0, 5, 2, 16, at(31))),
        "cooled: 4 → 8"
    );
    assert_eq!(policy.target(), 8);
    assert!(
        !policy.retire(&Load::new(8, 6, 0, 2, 16, at(40))),
        "no halving while cooling"
    );
    assert!(
        policy.retire(&Load::new(8, 6, 0, 2, 16, at(62))),
        "mostly idle: 8 → 4"
    );
    assert_eq!(policy.target(), 4);
    assert!(
        policy.retire(&Load::new(7, 5, 0, 2, 16, at(63))),
        "above the target retires"
    );
    assert!(
        !policy.retire(&Load::new(4, 3, 0, 2, 16, at(64))),
        "at target, cooling down"
    );
    assert!(
        policy.grow(&Load::new(4, 0, 9, 2, 5, at(200))),
        "4 → 8, capped at max 5"
    );
    assert_eq!(policy.target(), 5);
}
