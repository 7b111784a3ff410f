//! A built pool's configuration, and the rejection policies.

use std::fmt;
use std::time::Duration;

use crate::panic::{PanicHandler, ThreadHook};
use crate::policy::ScalingPolicy;

/// What a submission does when the queue already holds `queue_capacity`
/// tasks. (With the default unbounded queue it never applies.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionPolicy {
    /// Refuse the task: [`Error::QueueFull`](crate::Error::QueueFull), with
    /// the task handed back in the [`SubmitError`](crate::SubmitError).
    #[default]
    Reject,
    /// Run the task on the submitting thread, now (back-pressure by
    /// slowing the producer, as Java's `CallerRunsPolicy`). A panic goes to
    /// the task's handle or the panic handler, as on a worker.
    CallerRuns,
    /// Wait for a place in the queue — for ever (`timeout: None`), or up to
    /// `timeout`, then [`Error::Timeout`](crate::Error::Timeout) with the
    /// task handed back. Shutdown wakes the waiters
    /// ([`Error::ShutDown`](crate::Error::ShutDown)). Waiting from a task
    /// of the same pool can wait for ever if every thread does the same.
    Block {
        /// The longest wait; `None` waits as long as it takes.
        timeout: Option<Duration>,
    },
}

pub(crate) struct Config {
    pub(crate) min_threads: usize,
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
    /// `None`: unbounded.
    pub(crate) queue_capacity: Option<usize>,
    pub(crate) rejection: RejectionPolicy,
    pub(crate) thread_name: String,
    pub(crate) stack_size: Option<usize>,
    pub(crate) on_thread_start: Option<ThreadHook>,
    pub(crate) on_thread_stop: Option<ThreadHook>,
    pub(crate) panic_handler: PanicHandler,
    pub(crate) policy: Box<dyn ScalingPolicy>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("min_threads", &self.min_threads)
            .field("max_threads", &self.max_threads)
            .field("keep_alive", &self.keep_alive)
            .field("queue_capacity", &self.queue_capacity)
            .field("rejection", &self.rejection)
            .field("thread_name", &self.thread_name)
            .field("stack_size", &self.stack_size)
            .field("on_thread_start", &self.on_thread_start.is_some())
            .field("on_thread_stop", &self.on_thread_stop.is_some())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
