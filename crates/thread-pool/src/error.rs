//! What can go wrong: a refused configuration or submission ([`Error`],
//! with the task handed back in [`SubmitError`]), and a task that did not
//! produce its value ([`TaskError`]).

use std::fmt;
use std::time::Duration;

/// A pool operation that failed: a builder option out of range, a thread
/// the OS refused to start, or a task the pool did not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A builder option is outside its allowed range; nothing was built.
    #[error("invalid thread pool configuration: `{field}` is {value}, allowed: {allowed}")]
    InvalidConfig {
        /// The builder option, e.g. `min_threads`.
        field: &'static str,
        /// The value given.
        value: String,
        /// The allowed range, e.g. `0..=max_threads (4)`.
        allowed: String,
    },
    /// The operating system refused to start one of the `min_threads`
    /// threads `build()` starts; nothing was built.
    #[error("could not start a pool thread: {message}")]
    Spawn {
        /// The operating system's reason.
        message: String,
    },
    /// The queue held `capacity` tasks and the rejection policy is
    /// [`RejectionPolicy::Reject`](crate::RejectionPolicy::Reject).
    #[error("task rejected: the queue is full ({capacity} tasks)")]
    QueueFull {
        /// The pool's `queue_capacity`.
        capacity: usize,
    },
    /// The rejection policy is
    /// [`RejectionPolicy::Block`](crate::RejectionPolicy::Block) with a
    /// timeout, and the queue stayed full for all of it.
    #[error("task rejected: the queue stayed full ({capacity} tasks) for {waited:?}")]
    Timeout {
        /// How long the submission waited.
        waited: Duration,
        /// The pool's `queue_capacity`.
        capacity: usize,
    },
    /// The pool is shutting down (or has shut down) and accepts no more
    /// tasks.
    #[error("task rejected: the thread pool is shut down")]
    ShutDown,
}

impl Error {
    pub(crate) fn invalid(
        field: &'static str,
        value: impl ToString,
        allowed: impl Into<String>,
    ) -> Self {
        Self::InvalidConfig {
            field,
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}

/// A task the pool did not accept, handed back with the reason, so nothing
/// is lost: run it elsewhere, retry it, or drop it.
///
/// `Debug` and `Display` show the reason only (the task is usually a
/// closure).
pub struct SubmitError<F> {
    error: Error,
    task: F,
}

impl<F> SubmitError<F> {
    pub(crate) fn new(error: Error, task: F) -> Self {
        Self { error, task }
    }

    /// Why the task was not accepted.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The task, not run.
    pub fn into_task(self) -> F {
        self.task
    }

    /// The reason, dropping the task.
    pub fn into_error(self) -> Error {
        self.error
    }

    /// The reason and the task.
    pub fn into_parts(self) -> (Error, F) {
        (self.error, self.task)
    }
}

impl<F> fmt::Debug for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmitError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Display for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<F> std::error::Error for SubmitError<F> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Why a [`TaskHandle`](crate::TaskHandle) has no value to give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The task panicked; the payload's message (`&str` and `String`
    /// payloads; a placeholder for others). The worker thread survived.
    #[error("task panicked: {0}")]
    Panicked(String),
    /// The task was dropped before it ran, by
    /// [`ThreadPool::shutdown_now`](crate::ThreadPool::shutdown_now).
    #[error("task cancelled before it ran")]
    Cancelled,
    /// The outcome was already taken from this handle, by `try_join` or an
    /// earlier `poll` that returned `Ready`.
    #[error("the task's outcome was already taken from this handle")]
    AlreadyTaken,
}
