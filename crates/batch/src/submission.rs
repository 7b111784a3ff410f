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

/// An accepted item: its id in the queue and the channel its outcome
/// arrives on.
pub(crate) struct Ticket<O, E> {
    pub(crate) id: u64,
    pub(crate) reply: oneshot::Receiver<Outcome<O, E>>,
}

/// Runs `first` (the batch this caller leads, if any), then awaits the
/// ticket's outcome. If dropped before the outcome arrives, takes the item
/// out of `queue` — borrowed, so no reference count is touched per item.
pub(crate) async fn redeem<O, E, C: Cancel>(
    queue: &C,
    ticket: Ticket<O, E>,
    first: impl Future<Output = ()>,
) -> Outcome<O, E> {
    struct CancelOnDrop<'a, C: Cancel> {
        queue: &'a C,
        id: u64,
        armed: bool,
    }
    impl<C: Cancel> Drop for CancelOnDrop<'_, C> {
        fn drop(&mut self) {
            if self.armed {
                self.queue.cancel(self.id);
            }
        }
    }
    let mut guard = CancelOnDrop {
        queue,
        id: ticket.id,
        armed: true,
    };
    first.await;
    let outcome = ticket.reply.await;
    guard.armed = false;
    outcome.unwrap_or(Err(BatchError::Aborted))
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
    pub(crate) fn new(queue: Arc<dyn Cancel>, ticket: Ticket<O, E>) -> Self {
        Self {
            queue: Some(queue),
            id: ticket.id,
            reply: ticket.reply,
        }
    }
}

impl<O, E> Future for Submission<O, E> {
    type Output = Result<O, BatchError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.reply).poll(cx) {
            Poll::Ready(outcome) => {
                self.queue = None;
                // The sender is dropped without a reply only when the batch
                // is dropped unfinished (its runtime shut down).
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<u64>>);

    impl Cancel for Recorder {
        fn cancel(&self, id: u64) {
            self.0.lock().unwrap().push(id);
        }
    }

    #[tokio::test]
    async fn dropping_while_leading_a_batch_cancels_the_item() {
        let queue = Recorder::default();
        let (_reply, receiver) = oneshot::channel::<Outcome<u8, ()>>();
        let ticket = Ticket {
            id: 7,
            reply: receiver,
        };
        // The led batch never finishes; the caller gives up during it.
        let mut redeeming = Box::pin(redeem(&queue, ticket, std::future::pending()));
        tokio::select! {
            biased;
            _ = &mut redeeming => unreachable!("the led batch never finishes"),
            () = std::future::ready(()) => {}
        }
        drop(redeeming);
        assert_eq!(*queue.0.lock().unwrap(), [7]);
    }

    #[tokio::test]
    async fn an_arrived_outcome_cancels_nothing() {
        let queue = Recorder::default();
        let (reply, receiver) = oneshot::channel::<Outcome<u8, ()>>();
        reply.send(Ok(3)).unwrap();
        let ticket = Ticket {
            id: 1,
            reply: receiver,
        };
        assert_eq!(redeem(&queue, ticket, async {}).await, Ok(3));
        assert!(queue.0.lock().unwrap().is_empty());
    }
}
