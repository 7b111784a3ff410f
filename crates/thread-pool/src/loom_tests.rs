//! Loom models of the pool's hand-written synchronisation: the hand-off
//! between submitters and workers (state word, spinning tokens, idle stack,
//! parker), growth, retirement racing a new task, the blocking rejection
//! policy, task handles, `wait_idle`, both shutdowns, a shutdown racing a
//! thread start, a worker waiting for a push, and `scope` (alone and racing
//! `shutdown_now`). Each model runs the
//! real pool through its public API with loom's atomics, mutexes, condvars
//! and threads (the queue is a loom mutex around a `VecDeque`), and checks
//! after every interleaving that each task ran exactly once (or was
//! cancelled), that the counts are exact, and — loom's own check — that no
//! interleaving leaves a thread asleep with work to do (a deadlock).
//!
//! Run: `RUSTFLAGS="--cfg perfect21_loom" LOOM_MAX_PREEMPTIONS=2 cargo test
//! -p perfect21-thread-pool --release --lib loom_tests`.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use loom::sync::atomic::AtomicUsize;
use loom::sync::{Condvar, Mutex};

use crate::{RejectionPolicy, TaskError, ThreadPool};

/// Runs `f` under loom and checks that it explored more than one
/// interleaving.
fn model(f: impl Fn() + Sync + Send + 'static) {
    explore(None, f);
}

/// [`model`] with its own preemption bound, for a model whose race needs
/// more preemptions than `LOOM_MAX_PREEMPTIONS` allows the others.
fn model_with_preemptions(preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    explore(Some(preemptions), f);
}

fn explore(preemptions: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    let runs = Arc::new(StdAtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let mut builder = loom::model::Builder::new();
    builder.max_branches = 100_000;
    if preemptions.is_some() {
        builder.preemption_bound = preemptions;
    }
    builder.check(move || {
        counted.fetch_add(1, SeqCst);
        f();
    });
    let runs = runs.load(SeqCst);
    assert!(runs > 1, "explored {runs} interleavings");
    eprintln!("explored {runs} interleavings");
}

/// A task that adds one to `ran`.
fn count(ran: &Arc<AtomicUsize>) -> impl FnOnce() + Send + 'static {
    let ran = Arc::clone(ran);
    move || {
        ran.fetch_add(1, SeqCst);
    }
}

fn pool(min: usize, max: usize) -> crate::ThreadPoolBuilder {
    ThreadPool::builder()
        .min_threads(min)
        .max_threads(max)
        .keep_alive(Duration::from_secs(3600))
}

#[test]
fn a_task_reaches_an_idle_worker_and_wait_idle_sees_it_run() {
    model(|| {
        let pool = pool(1, 1).build().unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        pool.execute(count(&ran)).unwrap();
        pool.wait_idle();
        assert_eq!(ran.load(SeqCst), 1);
        pool.shutdown();
        let stats = pool.stats();
        assert_eq!((stats.submitted, stats.completed, stats.threads), (1, 1, 0));
    });
}

#[test]
fn a_handle_joined_on_another_thread_gets_the_value() {
    model(|| {
        let pool = pool(1, 1).build().unwrap();
        let handle = pool.spawn(|| 42).unwrap();
        assert_eq!(handle.join(), Ok(42));
        drop(pool);
    });
}

/// Submits two tasks that each wait until the other has started: they end
/// only if both got a thread at once. A lost delivery leaves one waiting
/// for ever, which loom reports as a deadlock.
fn rendezvous(pool: &ThreadPool) {
    let arrived = Arc::new((Mutex::new(0), Condvar::new()));
    for _ in 0..2 {
        let arrived = Arc::clone(&arrived);
        pool.execute(move || {
            let (count, both) = &*arrived;
            let mut count = count.lock().unwrap();
            *count += 1;
            both.notify_all();
            while *count < 2 {
                count = both.wait(count).unwrap();
            }
        })
        .unwrap();
    }
    pool.shutdown();
    assert_eq!(pool.stats().completed, 2);
}

#[test]
fn build_starts_every_min_thread_while_the_first_ones_run() {
    // The first initial thread spins and parks while `build` adds the
    // second: each add must land however the two interleave.
    model(|| {
        let pool = pool(2, 2).build().unwrap();
        let stats = pool.stats();
        assert_eq!((stats.threads, stats.threads_started), (2, 2));
        pool.shutdown();
    });
}

#[test]
fn two_tasks_that_wait_for_each_other_both_get_a_thread() {
    // min 0: no thread at first; the first task starts one, the second
    // finds it busy and starts another. min 1: one thread, spinning or
    // parked when the tasks arrive; the first task takes it, the second
    // must start a second thread rather than count on the same idle worker.
    for min in [0, 1] {
        model(move || {
            let pool = pool(min, 2).build().unwrap();
            rendezvous(&pool);
            assert_eq!(pool.stats().threads_started, 2);
        });
    }
}

#[test]
fn a_task_racing_a_retiring_thread_still_runs() {
    // keep_alive 0: the only thread retires as soon as it has parked. The
    // second task arrives while it spins, parks or retires, and must be
    // taken by it or start a new thread.
    model(|| {
        let pool = pool(0, 1).keep_alive(Duration::ZERO).build().unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            pool.execute(count(&ran)).unwrap();
            // Returns once the thread is idle (spinning), not yet retired.
            // The pool itself must run the task: `shutdown` would run a
            // stranded task on this thread and hide a lost delivery.
            pool.wait_idle();
        }
        assert_eq!(ran.load(SeqCst), 2);
        pool.shutdown();
        let stats = pool.stats();
        assert_eq!(stats.completed, 2);
        assert_eq!(stats.threads_started, stats.threads_retired);
    });
}

#[test]
fn a_blocked_submitter_gets_the_place_a_worker_frees() {
    model(|| {
        let pool = pool(1, 1)
            .queue_capacity(1)
            .rejection(RejectionPolicy::Block { timeout: None })
            .build()
            .unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            pool.execute(count(&ran)).unwrap();
        }
        pool.shutdown();
        assert_eq!(ran.load(SeqCst), 3);
        assert_eq!(pool.stats().rejected, 0);
    });
}

#[test]
fn shutdown_now_cancels_or_runs_each_task_exactly_once() {
    model(|| {
        let pool = pool(1, 1).build().unwrap();
        let first = pool.spawn(|| 1).unwrap();
        let second = pool.spawn(|| 2).unwrap();
        pool.shutdown_now();
        let outcomes = [first.join(), second.join()];
        let ran = outcomes.iter().filter(|o| o.is_ok()).count() as u64;
        let cancelled = outcomes
            .iter()
            .filter(|o| **o == Err(TaskError::Cancelled))
            .count() as u64;
        assert_eq!(ran + cancelled, 2);
        let stats = pool.stats();
        assert_eq!((stats.completed, stats.cancelled), (ran, cancelled));
    });
}

/// Polls `future` on this loom thread, parking between polls.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(loom::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(loom::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        loom::thread::park();
    }
}

#[test]
fn a_handle_awaited_gets_the_value() {
    // The waker is stored by one poll and woken by the worker: a wake-up
    // lost between the two leaves `block_on` asleep for ever.
    model(|| {
        let pool = pool(1, 1).build().unwrap();
        let handle = pool.spawn(|| 7).unwrap();
        assert_eq!(block_on(handle), Ok(7));
        drop(pool);
    });
}

#[test]
fn two_submitters_and_one_worker() {
    model(|| {
        let pool = Arc::new(pool(1, 1).build().unwrap());
        let ran = Arc::new(AtomicUsize::new(0));
        let other = {
            let (pool, task) = (Arc::clone(&pool), count(&ran));
            loom::thread::spawn(move || pool.execute(task).unwrap())
        };
        pool.execute(count(&ran)).unwrap();
        other.join().unwrap();
        pool.wait_idle();
        assert_eq!(ran.load(SeqCst), 2);
        assert_eq!(pool.stats().completed, 2);
    });
}

#[test]
fn a_shutdown_racing_a_thread_start_joins_it() {
    // The submitter's task starts the pool's first thread, outside the
    // registry lock, while `shutdown` runs. keep_alive 0: the thread may
    // run the task and retire before its starter has recorded its handle.
    // The task runs exactly once if it was accepted, and shutdown returns
    // only once that thread is joined: its stop hook has run and it no
    // longer holds the pool. That interleaving needs four preemptions
    // (main, the submitter after its spawn, the worker after retiring,
    // ...): this model checks every interleaving with up to four.
    model_with_preemptions(4, || {
        let stopped = Arc::new(StdAtomicUsize::new(0));
        let pool = {
            let stopped = Arc::clone(&stopped);
            pool(0, 1)
                .keep_alive(Duration::ZERO)
                .on_thread_stop(move || {
                    stopped.fetch_add(1, SeqCst);
                })
                .build()
                .unwrap()
        };
        let pool = Arc::new(pool);
        let ran = Arc::new(AtomicUsize::new(0));
        let submitter = {
            let (pool, task) = (Arc::clone(&pool), count(&ran));
            loom::thread::spawn(move || pool.execute(task).is_ok())
        };
        pool.shutdown();
        let accepted = submitter.join().unwrap();
        assert_eq!(ran.load(SeqCst), usize::from(accepted));
        let stats = pool.stats();
        assert_eq!(stats.threads, 0);
        assert_eq!(stats.threads_started, stats.threads_retired);
        assert_eq!(stats.completed, u64::from(accepted));
        assert_eq!(
            stopped.load(SeqCst) as u64,
            stats.threads_started,
            "a pool thread was still running after shutdown"
        );
        assert_eq!(
            Arc::strong_count(pool.shared()),
            1,
            "a pool thread outlived shutdown"
        );
    });
}

#[test]
fn a_worker_waiting_for_a_push_is_woken_by_the_push_or_by_the_take() {
    // Two idle workers both see the task admitted, possibly before its
    // push. A worker that sleeps until the push must be woken by it; and
    // when the other worker takes the task, by the count dropping to zero —
    // else it sleeps in transit and `wait_idle` waits for ever (a deadlock).
    model(|| {
        let pool = pool(2, 2).build().unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        pool.execute(count(&ran)).unwrap();
        pool.wait_idle();
        assert_eq!(ran.load(SeqCst), 1);
        pool.shutdown();
        let stats = pool.stats();
        assert_eq!((stats.submitted, stats.completed), (1, 1));
    });
}

#[test]
fn a_scope_returns_only_after_its_tasks_ran() {
    // The tasks borrow a counter on the scope's stack: `scope` must not
    // return before each has run and been dropped (the lifetime erasure's
    // whole argument), whatever the interleaving of the `Pending` count,
    // its condvar and the workers.
    model(|| {
        let pool = pool(1, 1).build().unwrap();
        let ran = AtomicUsize::new(0);
        pool.scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    ran.fetch_add(1, SeqCst);
                })
                .unwrap();
            }
        });
        assert_eq!(ran.load(SeqCst), 2);
        pool.shutdown();
        assert_eq!(pool.stats().completed, 2);
    });
}

#[test]
fn a_scope_racing_shutdown_now_waits_for_its_cancelled_task() {
    // A scoped task is run, cancelled by a concurrent `shutdown_now`, or
    // refused; in each case what it borrowed is dropped before `scope`
    // returns, exactly once.
    model(|| {
        let pool = Arc::new(pool(1, 1).build().unwrap());
        let stopper = {
            let pool = Arc::clone(&pool);
            loom::thread::spawn(move || pool.shutdown_now())
        };
        struct Dropped<'a>(&'a AtomicUsize);
        impl Drop for Dropped<'_> {
            fn drop(&mut self) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let (ran, dropped) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let outcome = pool.scope(|s| {
            let guard = Dropped(&dropped);
            s.spawn(|| {
                let _guard = guard;
                ran.fetch_add(1, SeqCst);
            })
            .map(|handle| handle.join())
            .map_err(|refused| refused.into_error())
        });
        assert_eq!(dropped.load(SeqCst), 1, "the borrow was dropped once");
        match outcome {
            Ok(Ok(())) => assert_eq!(ran.load(SeqCst), 1),
            Ok(Err(error)) => {
                assert_eq!(error, TaskError::Cancelled);
                assert_eq!(ran.load(SeqCst), 0);
            }
            Err(error) => {
                assert_eq!(error, crate::Error::ShutDown);
                assert_eq!(ran.load(SeqCst), 0);
            }
        }
        stopper.join().unwrap();
        let stats = pool.stats();
        assert_eq!(
            stats.submitted,
            stats.completed + stats.cancelled,
            "{stats:?}"
        );
    });
}
