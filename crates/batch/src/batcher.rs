//! [`Batcher`]: the handle callers submit through.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tokio::sync::TryAcquireError;

use crate::builder::BatcherBuilder;
use crate::error::{BatchError, TrySubmitError};
use crate::shared::{Queued, Shared};
use crate::stats::BatchStats;
use crate::submission::{Cancel, Submission, redeem};

/// An async micro-batcher: callers submit one item each and await their own
/// output, while the items travel to the batch function together.
///
/// Cheap to clone; clones share one queue. Output `i` of a batch answers
/// input `i`. When the last clone is dropped the batcher closes as
/// [`shutdown`](Self::shutdown) does — everything queued is dispatched at
/// once, nothing is dropped — without waiting for it.
pub struct Batcher<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    open: Arc<Open<I, O, E>>,
}

/// Held by every clone of a [`Batcher`]; the last one to go closes the
/// batcher. (Submissions and batch tasks hold the shared state directly:
/// they keep it alive, not open.)
struct Open<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    shared: Arc<Shared<I, O, E>>,
}

impl<I, O, E> Drop for Open<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl<I, O, E> Batcher<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    /// A builder around `batch_fn`, which gets the items of a batch in
    /// submission order and must return one output per item, in the same
    /// order, or one error for the whole batch.
    pub fn builder<F, Fut>(batch_fn: F) -> BatcherBuilder<I, O, E>
    where
        F: Fn(Vec<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<O>, E>> + Send + 'static,
    {
        BatcherBuilder::new(
            Box::new(move |items| Box::pin(batch_fn(items))),
            Arc::default(),
        )
    }

    pub(crate) fn from_shared(shared: Arc<Shared<I, O, E>>) -> Self {
        Self {
            open: Arc::new(Open { shared }),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared<I, O, E>> {
        &self.open.shared
    }

    /// Submits `item` and resolves to its own output.
    ///
    /// Like every future, it does nothing until first polled: that is when
    /// the item is queued (waiting, asynchronously, while `queue_capacity`
    /// items are queued). The future is `'static` — it does not borrow the
    /// batcher. If queueing the item makes a batch ready, this future runs
    /// that batch itself: no task is spawned and no thread woken. Dropping
    /// the future before the item's batch is dispatched removes the item —
    /// the batch function never sees it; a batch it was running moves to a
    /// task of its own. Fails with [`BatchError::Closed`] if the batcher is
    /// closed before the item is queued.
    pub fn submit(
        &self,
        item: I,
    ) -> impl Future<Output = Result<O, BatchError<E>>> + Send + use<I, O, E> {
        let shared = Arc::clone(self.shared());
        async move {
            // Fast path: room now (a permit is free only when nobody waits
            // for one, so this does not jump the queue of waiters).
            let permit = match shared.room.try_acquire() {
                Ok(permit) => Ok(permit),
                Err(_full_or_closed) => shared.room.acquire().await,
            };
            match permit {
                Ok(permit) => permit.forget(),
                Err(_closed) => {
                    shared.rejected();
                    return Err(BatchError::Closed);
                }
            }
            match shared.enqueue(item) {
                Ok(Queued { ticket, ready }) => {
                    let lead = ready.map(|batch| shared.lead(batch));
                    redeem(&*shared, ticket, async {
                        if let Some(lead) = lead {
                            lead.await;
                        }
                    })
                    .await
                }
                Err(_item) => {
                    shared.room.add_permits(1);
                    shared.rejected();
                    Err(BatchError::Closed)
                }
            }
        }
    }

    /// Queues `item` without waiting, or hands it back if the queue is full
    /// or the batcher closed. Await the returned [`Submission`] for the
    /// output; dropping it cancels the item.
    pub fn try_submit(&self, item: I) -> Result<Submission<O, E>, TrySubmitError<I>> {
        let shared = self.shared();
        match shared.room.try_acquire() {
            Ok(permit) => permit.forget(),
            Err(TryAcquireError::NoPermits) => {
                shared.rejected();
                return Err(TrySubmitError::QueueFull(item));
            }
            Err(TryAcquireError::Closed) => {
                shared.rejected();
                return Err(TrySubmitError::Closed(item));
            }
        }
        match shared.enqueue(item) {
            Ok(Queued { ticket, ready }) => {
                if let Some(batch) = ready {
                    shared.launch(batch);
                }
                let queue: Arc<dyn Cancel> = Arc::clone(shared) as _;
                Ok(Submission::new(queue, ticket))
            }
            Err(item) => {
                shared.room.add_permits(1);
                shared.rejected();
                Err(TrySubmitError::Closed(item))
            }
        }
    }

    /// Stops accepting items, dispatches everything queued without waiting
    /// for `max_wait` (still at most `max_concurrent_batches` at a time),
    /// and waits until every batch has finished. Submits waiting for room
    /// and any later submit fail with [`BatchError::Closed`]. Idempotent;
    /// any clone may call it.
    pub async fn shutdown(&self) {
        self.shared().close();
        self.shared().wait_drained().await;
    }

    /// Whether the batcher has stopped accepting items.
    pub fn is_closed(&self) -> bool {
        self.shared().is_closed()
    }

    /// A snapshot of the counters and distributions.
    pub fn stats(&self) -> BatchStats {
        self.shared().stats()
    }

    /// The name given to the builder.
    pub fn name(&self) -> &str {
        &self.shared().config.name
    }
}

impl<I, O, E> Clone for Batcher<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    fn clone(&self) -> Self {
        Self {
            open: Arc::clone(&self.open),
        }
    }
}

impl<I, O, E> fmt::Debug for Batcher<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.stats();
        f.debug_struct("Batcher")
            .field("name", &self.name())
            .field("closed", &self.is_closed())
            .field("queued_items", &stats.queued_items)
            .field("in_flight_batches", &stats.in_flight_batches)
            .finish_non_exhaustive()
    }
}
