//! A panic in every piece of user code the pool calls — the task, the panic
//! handler, each scaling-policy question, the thread start and stop hooks,
//! the waker of an awaited handle, the destructor of a cancelled task —
//! leaves the pool usable, hangs nothing, and keeps the stats exact.
//! (Thread names are a fixed prefix, not a function: no hook there.)

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use perfect21_thread_pool::{Load, ScalingPolicy, Stats, TaskError, ThreadPool};

/// The pool still runs tasks and returns their values.
fn still_usable(pool: &ThreadPool) {
    assert_eq!(pool.spawn(|| 21 * 2).unwrap().join(), Ok(42));
}

/// After `wait_idle`: every submitted task accounted for, nothing queued or
/// running, threads counted.
fn exact(stats: &Stats) {
    assert_eq!(
        stats.submitted,
        stats.completed + stats.panicked + stats.cancelled,
        "{stats:?}"
    );
    assert_eq!((stats.queued, stats.running), (0, 0), "{stats:?}");
    assert_eq!(
        stats.threads as u64,
        stats.threads_started - stats.threads_retired,
        "{stats:?}"
    );
}

#[test]
fn a_panicking_task() {
    let pool = ThreadPool::builder()
        .max_threads(2)
        .panic_handler(|_| ())
        .build()
        .unwrap();
    pool.execute(|| panic!("task")).unwrap();
    let handle = pool.spawn(|| -> u8 { panic!("spawned task") }).unwrap();
    assert_eq!(
        handle.join(),
        Err(TaskError::Panicked("spawned task".into()))
    );
    still_usable(&pool);
    pool.wait_idle();
    let stats = pool.stats();
    assert_eq!(
        (stats.submitted, stats.panicked, stats.completed),
        (3, 2, 1)
    );
    exact(&stats);
}

#[test]
fn a_panicking_panic_handler() {
    let calls = Arc::new(AtomicUsize::new(0));
    let pool = {
        let calls = Arc::clone(&calls);
        ThreadPool::builder()
            .max_threads(1)
            .panic_handler(move |_| {
                calls.fetch_add(1, SeqCst);
                panic!("the handler too");
            })
            .build()
            .unwrap()
    };
    for _ in 0..3 {
        pool.execute(|| panic!("task")).unwrap();
    }
    still_usable(&pool);
    pool.wait_idle();
    assert_eq!(calls.load(SeqCst), 3);
    let stats = pool.stats();
    assert_eq!(
        (stats.panicked, stats.completed, stats.threads_started),
        (3, 1, 1)
    );
    exact(&stats);
}

/// A policy that panics at the question named `at`, and counts each time
/// it was asked it.
#[derive(Debug, Clone)]
struct Panicky {
    at: &'static str,
    asked: Arc<AtomicUsize>,
}

impl Panicky {
    fn new(at: &'static str) -> Self {
        Self {
            at,
            asked: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn ask(&self, question: &'static str, answer: bool) -> bool {
        if question == self.at {
            self.asked.fetch_add(1, SeqCst);
            panic!("policy: {question}");
        }
        answer
    }
}

impl ScalingPolicy for Panicky {
    fn initial_threads(&self, min_threads: usize, _: usize) -> usize {
        if self.ask("initial_threads", true) {
            min_threads
        } else {
            0
        }
    }

    fn grow(&self, _: &Load) -> bool {
        self.ask("grow", true)
    }

    fn retire(&self, _: &Load) -> bool {
        self.ask("retire", true)
    }
}

#[test]
fn a_scaling_policy_panicking_in_initial_threads() {
    let policy = Panicky::new("initial_threads");
    // Counts as no opinion: `min_threads` threads start, as by default.
    let pool = ThreadPool::builder()
        .min_threads(2)
        .max_threads(4)
        .scaling(policy.clone())
        .build()
        .expect("a panicking policy does not fail build()");
    assert_eq!(policy.asked.load(SeqCst), 1);
    still_usable(&pool);
    pool.wait_idle();
    let stats = pool.stats();
    assert_eq!((stats.threads_started, stats.completed), (2, 1));
    exact(&stats);
}

#[test]
fn a_scaling_policy_panicking_in_grow() {
    let policy = Panicky::new("grow");
    let pool = ThreadPool::builder()
        .min_threads(1)
        .max_threads(4)
        .scaling(policy.clone())
        .build()
        .unwrap();
    // The one thread is busy: the next task asks to grow, the policy
    // panics, which counts as "no": the task waits for the busy thread.
    let gate = common::occupy(&pool, 1);
    let queued = pool.spawn(|| 7).unwrap();
    common::eventually(&pool, "the task to queue", |s| s.queued == 1);
    assert!(policy.asked.load(SeqCst) >= 1);
    assert_eq!(pool.stats().threads, 1, "no thread started");
    gate.open();
    assert_eq!(queued.join(), Ok(7));
    still_usable(&pool);
    pool.wait_idle();
    let stats = pool.stats();
    assert_eq!((stats.threads_started, stats.completed), (1, 3));
    exact(&stats);
}

#[test]
fn a_scaling_policy_panicking_in_retire() {
    let policy = Panicky::new("retire");
    let pool = ThreadPool::builder()
        .max_threads(2)
        .keep_alive(Duration::ZERO)
        .scaling(policy.clone())
        .build()
        .unwrap();
    still_usable(&pool);
    // keep_alive 0: the idle thread asks to retire at once; the panic
    // counts as "no" and the thread stays.
    while policy.asked.load(SeqCst) == 0 {
        std::thread::yield_now();
    }
    still_usable(&pool);
    pool.wait_idle();
    let stats = pool.stats();
    assert_eq!((stats.threads, stats.threads_retired), (1, 0));
    assert_eq!(stats.completed, 2);
    exact(&stats);
}

#[test]
fn a_panicking_thread_start_hook() {
    let started = Arc::new(AtomicUsize::new(0));
    let pool = {
        let started = Arc::clone(&started);
        ThreadPool::builder()
            .min_threads(1)
            .max_threads(2)
            .on_thread_start(move || {
                started.fetch_add(1, SeqCst);
                panic!("start hook");
            })
            .build()
            .unwrap()
    };
    // Both threads busy at once: the second is started for the second task.
    let gate = common::occupy(&pool, 2);
    gate.open();
    still_usable(&pool);
    pool.wait_idle();
    assert_eq!(started.load(SeqCst), 2);
    let stats = pool.stats();
    assert_eq!((stats.threads_started, stats.completed), (2, 3));
    exact(&stats);
    pool.shutdown();
    exact(&pool.stats());
}

#[test]
fn a_panicking_thread_stop_hook() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let pool = {
        let stopped = Arc::clone(&stopped);
        ThreadPool::builder()
            .min_threads(1)
            .max_threads(2)
            .keep_alive(Duration::ZERO)
            .on_thread_stop(move || {
                stopped.fetch_add(1, SeqCst);
                panic!("stop hook");
            })
            .build()
            .unwrap()
    };
    // A second thread is started for the burst and retires after it (its
    // stop hook panics), the first stays at min_threads.
    let gate = common::occupy(&pool, 2);
    gate.open();
    common::eventually(&pool, "the extra thread to retire", |s| {
        s.threads_retired == 1
    });
    while stopped.load(SeqCst) == 0 {
        std::thread::yield_now();
    }
    still_usable(&pool);
    pool.wait_idle();
    exact(&pool.stats());
    pool.shutdown();
    let stats = pool.stats();
    // Two threads at least (the first and the burst's); `still_usable` may
    // have started another, which retired too. Each ran its hook once.
    assert!(stats.threads_started >= 2, "{stats:?}");
    assert_eq!(
        stopped.load(SeqCst) as u64,
        stats.threads_started,
        "every thread ran its stop hook"
    );
    assert_eq!((stats.threads, stats.completed), (0, 3));
    exact(&stats);
}

/// A waker that panics when woken.
struct PanickingWaker(AtomicUsize);

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
        panic!("waker");
    }
}

#[test]
fn a_panicking_waker_of_an_awaited_handle() {
    let pool = ThreadPool::builder()
        .min_threads(1)
        .max_threads(1)
        .panic_handler(|_| ())
        .build()
        .unwrap();
    let gate = common::occupy(&pool, 1);
    let mut handle = pool.spawn(|| 5).unwrap();
    let waker = Arc::new(PanickingWaker(AtomicUsize::new(0)));
    let std_waker = Waker::from(Arc::clone(&waker));
    let mut cx = Context::from_waker(&std_waker);
    assert!(std::pin::Pin::new(&mut handle).poll(&mut cx).is_pending());
    gate.open();
    pool.wait_idle();
    assert_eq!(waker.0.load(SeqCst), 1, "the waker was woken");
    // The task returned: its value is there and it counts as completed, not
    // as panicked — the panic was the waker's.
    assert_eq!(handle.try_join(), Some(Ok(5)));
    still_usable(&pool);
    pool.wait_idle();
    let stats = pool.stats();
    assert_eq!((stats.completed, stats.panicked), (3, 0));
    exact(&stats);
}

#[test]
fn a_cancelled_task_whose_captures_panic_on_drop() {
    let pool = ThreadPool::builder()
        .min_threads(1)
        .max_threads(1)
        .build()
        .unwrap();
    let pool = Arc::new(pool);
    let gate = common::occupy(&pool, 1);
    let grenade = common::Grenade;
    let cancelled = pool
        .spawn(move || {
            let _grenade = &grenade;
        })
        .unwrap();
    let stopper = common::on_thread(&pool, ThreadPool::shutdown_now);
    common::eventually(&pool, "the queued task to be cancelled", |s| {
        s.cancelled == 1
    });
    gate.open();
    stopper.join().unwrap();
    assert_eq!(cancelled.join(), Err(TaskError::Cancelled));
    let stats = pool.stats();
    assert_eq!((stats.completed, stats.cancelled, stats.threads), (1, 1, 0));
    exact(&stats);
}
