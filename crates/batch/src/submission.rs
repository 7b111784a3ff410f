//! The future a caller awaits for its own outcome. Dropping it before the
//! item's batch is dispatched takes the item out of the queue.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::error::BatchError;
use crate::queue::Outcome;

/// Takes a queued item out of the queue.
pub(crate) trait Cancel: Send + Sync {
    /// Removes the item if it is still queued; does nothing once it has been
    /// dispatched.
    fn cancel(&self, id: u64);
}

/// An accepted item's outcome, to await.
///
/// Returned by [`Batcher::try_submit`](crate::Batcher::try_submit) (and
/// awaited inside `submit`). It is `'static`: store it, spawn it, or drop
/// it. Dropping it before the item's batch is dispatched removes the item
/// from the queue — the batch function never sees it; dropping it later
/// discards the output.
#[must_use = "dropping a Submission cancels its item"]
pub struct Submission<O, E> {
    /// `None` once the outcome has arrived.
    queue: Option<Arc<dyn Cancel>>,
    id: u64,
    reply: oneshot::Receiver<Outcome<O, E>>,
}

impl<O, E> Submission<O, E> {
    pub(crate) fn new(
        queue: Arc<dyn Cancel>,
        id: u64,
        reply: oneshot::Receiver<Outcome<O, E>>,
    ) -> Self {
        Self {
            queue: Some(queue),
            id,
            reply,
        }
    }
}

impl<O, E> Future for Submission<O, E> {
    type Output = Result<O, BatchError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.reply).poll(cx) {
            Poll::Ready(outcome) => {
                self.queue = None;
                // The sender is dropped without a reply only when the task
                // running the batch is dropped (its runtime shut down).
                Poll::Ready(outcome.unwrap_or(Err(BatchError::Aborted)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<O, E> Drop for Submission<O, E> {
    fn drop(&mut self) {
        if let Some(queue) = self.queue.take() {
            queue.cancel(self.id);
        }
    }
}

impl<O, E> fmt::Debug for Submission<O, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Submission")
            .field("id", &self.id)
            .field("done", &self.queue.is_none())
            .finish()
    }
}
