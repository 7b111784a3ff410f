//! A queued task: a boxed [`Runnable`]. Running it catches the user's
//! panic; dropping it unrun cancels it (a spawned task's handle then gets
//! `TaskError::Cancelled`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::panic::PanicPayload;

/// How a task's run ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Completed,
    /// The task panicked. `Some`: no handle took the payload, so it goes to
    /// the pool's panic handler.
    Panicked(Option<PanicPayload>),
}

pub(crate) trait Runnable: Send {
    fn run(self: Box<Self>) -> Outcome;
}

/// A task in the queue.
pub(crate) type Task = Box<dyn Runnable>;

/// A fire-and-forget task (`ThreadPool::execute`).
pub(crate) struct Execute<F>(pub(crate) F);

impl<F: FnOnce() + Send> Runnable for Execute<F> {
    fn run(self: Box<Self>) -> Outcome {
        let f = self.0;
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(()) => Outcome::Completed,
            Err(payload) => Outcome::Panicked(Some(payload)),
        }
    }
}
