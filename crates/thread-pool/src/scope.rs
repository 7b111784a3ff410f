//! `ThreadPool::scope`: tasks that borrow from the caller's stack.
//!
//! A scoped task is queued like any other, with its lifetime erased (the
//! crate's one `unsafe` block). That is sound because `scope` does not
//! return — not even by unwinding — until every task spawned in it has been
//! dropped, run or not: each carries a guard that counts it out only after
//! the closure and everything it borrowed are gone.

use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;

use crate::error::SubmitError;
use crate::handle::{TaskHandle, spawn_pair};
use crate::pool::ThreadPool;
use crate::sync::{self, Condvar, Mutex};
use crate::task::{Outcome, Runnable, Task};

/// A scope in which tasks may borrow anything that outlives it; see
/// [`ThreadPool::scope`].
pub struct Scope<'scope, 'env: 'scope> {
    pool: &'env ThreadPool,
    pending: Arc<Pending>,
    /// Invariant in `'scope`, as `std::thread::Scope`.
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("pending", &*sync::lock(&self.pending.count))
            .finish_non_exhaustive()
    }
}

/// Tasks of a scope not yet dropped.
#[derive(Debug)]
struct Pending {
    count: Mutex<usize>,
    zero: Condvar,
}

impl Pending {
    fn wait_for_zero(&self) {
        let mut count = sync::lock(&self.count);
        while *count > 0 {
            count = match self.zero.wait(count) {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
    }
}

/// Counts its task out when dropped — declared after the task in
/// [`Scoped`], so it drops after it, even when the task's drop unwinds.
struct Done(Arc<Pending>);

impl Drop for Done {
    fn drop(&mut self) {
        let mut count = sync::lock(&self.0.count);
        *count -= 1;
        if *count == 0 {
            drop(count);
            self.0.zero.notify_all();
        }
    }
}

/// A scoped task: the task, then its guard.
struct Scoped<'scope> {
    task: Option<Box<dyn Runnable + 'scope>>,
    _done: Done,
}

impl Runnable for Scoped<'_> {
    fn run(mut self: Box<Self>) -> Outcome {
        match self.task.take() {
            Some(task) => task.run(),
            None => Outcome::Completed,
        }
        // `self` drops here: the guard counts the task out.
    }
}

impl ThreadPool {
    /// Runs `f` with a [`Scope`] whose tasks may borrow from the caller's
    /// stack, and returns once every task spawned in it has finished (or
    /// was cancelled by `shutdown_now`).
    ///
    /// A scoped task's panic reaches its handle, or the panic handler if
    /// the handle was dropped. If `f` itself panics, `scope` still waits
    /// for the tasks, then resumes the panic.
    ///
    /// Waiting blocks the calling thread: called from one of the pool's own
    /// tasks at `max_threads`, a scope whose tasks cannot get a thread
    /// waits for ever.
    ///
    /// ```
    /// # use perfect21_thread_pool::ThreadPool;
    /// let pool = ThreadPool::builder().max_threads(4).build()?;
    /// let mut chunks = vec![vec![1, 2], vec![3, 4], vec![5, 6]];
    /// let sums: Vec<i32> = pool.scope(|s| {
    ///     let handles: Vec<_> = chunks
    ///         .iter_mut()
    ///         .map(|chunk| s.spawn(move || {
    ///             chunk.push(0);
    ///             chunk.iter().sum::<i32>()
    ///         }))
    ///         .collect::<Result<_, _>>()
    ///         .expect("an open pool with an unbounded queue accepts every task");
    ///     handles.into_iter().map(|h| h.join().expect("no task panics")).collect()
    /// });
    /// assert_eq!(sums, [3, 7, 11]);
    /// assert_eq!(chunks[0], [1, 2, 0]);
    /// # Ok::<(), perfect21_thread_pool::Error>(())
    /// ```
    pub fn scope<'env, F, T>(&'env self, f: F) -> T
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
    {
        let scope = Scope {
            pool: self,
            pending: Arc::new(Pending {
                count: Mutex::new(0),
                zero: Condvar::new(),
            }),
            scope: PhantomData,
            env: PhantomData,
        };
        let result = catch_unwind(AssertUnwindSafe(|| f(&scope)));
        scope.pending.wait_for_zero();
        match result {
            Ok(value) => value,
            Err(payload) => resume_unwind(payload),
        }
    }
}

impl<'scope> Scope<'scope, '_> {
    /// Runs `f` on the pool; it may borrow anything that outlives the
    /// scope. Submission works as for [`ThreadPool::spawn`] (the task is
    /// handed back when refused).
    pub fn spawn<F, R>(&'scope self, f: F) -> Result<TaskHandle<R>, SubmitError<F>>
    where
        F: FnOnce() -> R + Send + 'scope,
        R: Send + 'scope,
    {
        self.pool.shared().submit(f, |f| {
            let (task, handle) = spawn_pair(f);
            *sync::lock(&self.pending.count) += 1;
            let scoped: Box<dyn Runnable + 'scope> = Box::new(Scoped {
                task: Some(Box::new(task)),
                _done: Done(Arc::clone(&self.pending)),
            });
            // SAFETY: only the lifetime changes (same vtable, same layout).
            // The task may borrow data of lifetime 'scope, which outlives
            // the call to `ThreadPool::scope` that created `self`. That
            // call returns (or unwinds) only after `Pending` reached zero,
            // i.e. after this task's `Done` guard dropped, which happens
            // after the task and every borrow it holds were dropped (field
            // order in `Scoped`; `run` consumes the task first). The pool
            // never leaks a task: it runs it or drops it (queue drain at
            // shutdown, `shutdown_now`, or the queue's own drop).
            let task: Task = unsafe {
                std::mem::transmute::<Box<dyn Runnable + 'scope>, Box<dyn Runnable + 'static>>(
                    scoped,
                )
            };
            (task, handle)
        })
    }
}

#[cfg(all(test, not(perfect21_loom)))]
mod tests {
    //! The scoped-task lifetime erasure, under Miri too
    //! (`cargo +nightly miri test -p perfect21-thread-pool --lib scope::`).

    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    use std::sync::Barrier;
    use std::sync::mpsc::Receiver;

    use crate::{RejectionPolicy, Scope, TaskError, TaskHandle, ThreadPool};

    /// Spawns a task that holds a thread until `release` sends, and
    /// returns once it runs.
    fn hold_the_thread<'scope>(
        s: &'scope Scope<'scope, '_>,
        started: &'scope Barrier,
        release: Receiver<()>,
    ) -> TaskHandle<()> {
        let blocker = s
            .spawn(move || {
                started.wait();
                release.recv().unwrap()
            })
            .unwrap();
        started.wait();
        blocker
    }

    fn pool(max: usize) -> ThreadPool {
        ThreadPool::builder()
            .max_threads(max)
            .keep_alive(std::time::Duration::from_millis(1))
            .build()
            .unwrap()
    }

    #[test]
    fn tasks_borrow_and_mutate_the_stack() {
        let pool = pool(3);
        let mut data = vec![0u64; 12];
        let total = AtomicUsize::new(0);
        pool.scope(|s| {
            for (i, chunk) in data.chunks_mut(3).enumerate() {
                let total = &total;
                s.spawn(move || {
                    for slot in chunk.iter_mut() {
                        *slot = i as u64 + 1;
                    }
                    total.fetch_add(chunk.len(), SeqCst);
                })
                .unwrap();
            }
        });
        assert_eq!(data, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
        assert_eq!(total.load(SeqCst), 12);
    }

    #[test]
    fn values_that_borrow_come_back_through_handles() {
        let pool = pool(2);
        let words = ["alpha".to_string(), "beta".to_string()];
        let firsts: Vec<&str> = pool.scope(|s| {
            let handles: Vec<_> = words
                .iter()
                .map(|w| s.spawn(move || &w[..1]).unwrap())
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(firsts, ["a", "b"]);
    }

    #[test]
    fn a_panicking_scoped_task_reaches_its_handle_and_the_scope_ends() {
        let pool = pool(2);
        let flag = AtomicUsize::new(0);
        let outcome = pool.scope(|s| {
            let handle = s
                .spawn(|| {
                    flag.fetch_add(1, SeqCst);
                    panic!("scoped boom");
                })
                .unwrap();
            handle.join()
        });
        assert_eq!(outcome, Err(TaskError::Panicked("scoped boom".into())));
        assert_eq!(flag.load(SeqCst), 1);
    }

    #[test]
    fn cancelled_scoped_tasks_are_dropped_before_the_scope_returns() {
        // One thread, blocked until the scope has queued a second task;
        // shutdown_now then cancels the queued one.
        let pool = ThreadPool::builder()
            .min_threads(1)
            .max_threads(1)
            .build()
            .unwrap();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let borrowed = String::from("borrowed");
        let dropped = AtomicUsize::new(0);
        struct CountDrop<'a>(&'a AtomicUsize, &'a str);
        impl Drop for CountDrop<'_> {
            fn drop(&mut self) {
                assert_eq!(self.1, "borrowed");
                self.0.fetch_add(1, SeqCst);
            }
        }
        let started = Barrier::new(2);
        let started = &started;
        let outcome = pool.scope(|s| {
            let blocker = hold_the_thread(s, started, wait);
            let guard = CountDrop(&dropped, &borrowed);
            let queued = s
                .spawn(move || {
                    let _guard = guard;
                })
                .unwrap();
            // The worker is busy with the blocker: the second task is queued.
            std::thread::scope(|t| {
                t.spawn(|| pool.shutdown_now());
                // shutdown_now cancels the queued task, then waits for the
                // blocker; release it once the cancellation is visible.
                while pool.stats().cancelled == 0 {
                    std::thread::yield_now();
                }
                release.send(()).unwrap();
            });
            (blocker.join(), queued.join())
        });
        assert_eq!(outcome, (Ok(()), Err(TaskError::Cancelled)));
        assert_eq!(dropped.load(SeqCst), 1);
    }

    #[test]
    fn caller_runs_scoped_tasks_inline_when_the_queue_is_full() {
        let pool = ThreadPool::builder()
            .min_threads(1)
            .max_threads(1)
            .queue_capacity(1)
            .rejection(RejectionPolicy::CallerRuns)
            .build()
            .unwrap();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let caller = std::thread::current().id();
        let mut ran_on = Vec::new();
        let started = Barrier::new(2);
        let started = &started;
        pool.scope(|s| {
            let blocker = hold_the_thread(s, started, wait);
            let queued = s.spawn(|| std::thread::current().id()).unwrap();
            let inline = s.spawn(|| std::thread::current().id()).unwrap();
            ran_on.push(inline.join().unwrap());
            release.send(()).unwrap();
            blocker.join().unwrap();
            ran_on.push(queued.join().unwrap());
        });
        assert_eq!(ran_on[0], caller);
        assert_ne!(ran_on[1], caller);
    }
}
