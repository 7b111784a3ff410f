//! Running one dispatched batch: call the batch function (catching its
//! panics, enforcing `batch_timeout`), then deliver the outcomes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Poll;

use tracing::Instrument;

use crate::deliver::Unanswered;
use crate::error::BatchError;
use crate::shared::{Batch, Shared};
use crate::unwind::{Quiet, drop_quietly, panicked};

impl<I, O, E> Shared<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    /// Runs a dispatched batch to the end: every item's caller gets exactly
    /// one outcome (or had stopped waiting).
    pub(crate) async fn run_batch(&self, mut batch: Batch<I, O, E>) {
        let entries = std::mem::take(&mut batch.entries);
        let (reason, dispatched) = (batch.reason, batch.dispatched);
        drop(batch);
        let size = entries.len();
        self.counters.flushed(reason);
        self.histograms.lock().record(
            size,
            entries
                .iter()
                .map(|entry| dispatched.saturating_duration_since(entry.enqueued)),
        );
        let mut items = Vec::with_capacity(size);
        let mut replies = Unanswered {
            replies: Vec::with_capacity(size),
            counters: &self.counters,
        };
        for entry in entries {
            items.push(entry.item);
            replies.replies.push(entry.reply);
        }
        let span = tracing::debug_span!(
            target: "perfect21_batch",
            "batch",
            batcher = %self.config.name,
            size,
            reason = reason.as_str(),
        );
        let result = self.call(items).instrument(span.clone()).await;
        let _entered = span.enter();
        self.deliver(result, std::mem::take(&mut replies.replies));
    }

    /// Calls the batch function; a panic (while creating or polling its
    /// future) and a timeout become errors.
    async fn call(&self, items: Vec<I>) -> Result<Vec<O>, BatchError<E>> {
        let future = match catch_unwind(AssertUnwindSafe(|| (self.batch_fn)(items))) {
            Ok(future) => future,
            Err(payload) => return Err(panicked(payload)),
        };
        // Dropped quietly when done, or when the timeout drops it.
        let mut future = Quiet(Some(future));
        let caught = std::future::poll_fn(move |cx| {
            let Some(running) = future.0.as_mut() else {
                return Poll::Pending;
            };
            match catch_unwind(AssertUnwindSafe(|| running.as_mut().poll(cx))) {
                Ok(Poll::Ready(result)) => {
                    future.0.take().into_iter().for_each(drop_quietly);
                    Poll::Ready(result.map_err(BatchError::Failed))
                }
                Ok(Poll::Pending) => Poll::Pending,
                Err(payload) => {
                    future.0.take().into_iter().for_each(drop_quietly);
                    Poll::Ready(Err(panicked(payload)))
                }
            }
        });
        match self.config.batch_timeout {
            None => caught.await,
            Some(after) => tokio::time::timeout(after, caught)
                .await
                .unwrap_or(Err(BatchError::Timeout { after })),
        }
    }
}
