//! `ThreadPool`: submit tasks, read stats, wait, shut down.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::builder::ThreadPoolBuilder;
use crate::error::SubmitError;
use crate::handle::{TaskHandle, spawn_pair};
use crate::pool_state::PoolState;
use crate::stats::Stats;
use crate::sync;
use crate::task::Execute;

/// A pool of threads for blocking and CPU-bound work that grows when tasks
/// find no idle worker, shrinks when threads stay idle, and hands results
/// back through [`TaskHandle`]s.
///
/// Made by [`ThreadPool::builder`]. `Send + Sync`: share it by reference
/// or in an `Arc`.
///
/// # Shutdown
///
/// [`shutdown`](Self::shutdown) stops accepting tasks, runs every task
/// already queued, and joins every thread; [`shutdown_now`](Self::shutdown_now)
/// cancels the queued tasks instead (running ones finish: a thread cannot
/// be interrupted). **Dropping the pool shuts it down gracefully**, like
/// `shutdown`: the drop blocks until every queued task has run. Call
/// `shutdown_now` first to drop without running them.
pub struct ThreadPool {
    shared: Arc<PoolState>,
}

impl ThreadPool {
    /// A builder with the defaults: `min_threads` 0, `max_threads` the
    /// number of CPUs, `keep_alive` 10 s, an unbounded queue.
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder::new()
    }

    pub(crate) fn from_shared(shared: Arc<PoolState>) -> Self {
        Self { shared }
    }

    pub(crate) fn shared(&self) -> &Arc<PoolState> {
        &self.shared
    }

    /// Runs `f` on the pool, fire-and-forget. A panic goes to the panic
    /// handler (by default a `tracing` error event); the worker survives.
    ///
    /// A task that finds no idle worker starts a thread at once (below
    /// `max_threads`, as the scaling policy allows). When the queue is full
    /// the rejection policy decides; a refused task is handed back in the
    /// error, as after shutdown.
    pub fn execute<F>(&self, f: F) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.shared.submit(f, |f| (Box::new(Execute(f)), ()))
    }

    /// Runs `f` on the pool and returns a handle to its value: `join()` it,
    /// `.await` it from any async runtime, or drop it to detach the task.
    /// A panic reaches the handle as
    /// [`TaskError::Panicked`](crate::TaskError::Panicked) (or the panic
    /// handler, if the handle was dropped).
    ///
    /// Submission works as for [`execute`](Self::execute).
    pub fn spawn<F, R>(&self, f: F) -> Result<TaskHandle<R>, SubmitError<F>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.shared.submit(f, |f| {
            let (task, handle) = spawn_pair(f);
            (Box::new(task), handle)
        })
    }

    /// A snapshot of the pool's gauges and counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Blocks until no task is queued and no thread runs one. Tasks
    /// submitted meanwhile are waited for too. Called from one of the
    /// pool's own tasks, it waits for every *other* thread.
    pub fn wait_idle(&self) {
        self.shared.wait_idle(None);
    }

    /// [`wait_idle`](Self::wait_idle) for at most `timeout`; `true` if the
    /// pool became idle.
    pub fn wait_idle_timeout(&self, timeout: Duration) -> bool {
        self.shared.wait_idle(sync::deadline(Some(timeout)))
    }

    /// Stops accepting tasks (submissions get
    /// [`Error::ShutDown`](crate::Error::ShutDown), blocked submitters are
    /// woken with it), runs every task already queued, and joins every
    /// thread. Idempotent; concurrent calls all wait. Called from one of
    /// the pool's own tasks, it joins every other thread and the caller's
    /// thread exits after its task.
    pub fn shutdown(&self) {
        self.shared.shutdown(false);
    }

    /// Like [`shutdown`](Self::shutdown), but the queued tasks are dropped
    /// unrun (their handles get [`TaskError::Cancelled`](crate::TaskError::Cancelled));
    /// tasks already running finish. A task admitted at the very moment of
    /// the call may still run.
    pub fn shutdown_now(&self) {
        self.shared.shutdown(true);
    }

    /// Whether [`shutdown`](Self::shutdown) or
    /// [`shutdown_now`](Self::shutdown_now) has been called.
    pub fn is_shut_down(&self) -> bool {
        self.shared.queue.is_closed()
    }
}

impl Drop for ThreadPool {
    /// A graceful [`shutdown`](Self::shutdown): blocks until the queued
    /// tasks have run and the threads have exited.
    fn drop(&mut self) {
        self.shared.shutdown(false);
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("config", &self.shared.config)
            .field("stats", &self.stats())
            .finish()
    }
}
