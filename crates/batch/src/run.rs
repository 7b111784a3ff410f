//! Running one batch: call the batch function (catching panics, enforcing
//! `batch_timeout`), then hand each caller its own outcome.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Poll;

use tokio::sync::oneshot;
use tracing::Instrument;

use crate::error::BatchError;
use crate::queue::Outcome;
use crate::shared::{Batch, Shared};
use crate::stats::Counters;
use crate::unwind::{Quiet, clone_error, drop_quietly, panicked};

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

    /// Hands output `i` to caller `i`, or the batch's error to every caller.
    fn deliver(
        &self,
        result: Result<Vec<O>, BatchError<E>>,
        replies: Vec<oneshot::Sender<Outcome<O, E>>>,
    ) {
        let expected = replies.len();
        let result = match result {
            Ok(outputs) if outputs.len() != expected => {
                let actual = outputs.len();
                drop_quietly(outputs);
                Err(BatchError::OutputCountMismatch { expected, actual })
            }
            other => other,
        };
        let counters = &self.counters;
        match result {
            Ok(outputs) => {
                Counters::add(&counters.completed, expected);
                for (reply, output) in replies.into_iter().zip(outputs) {
                    // A caller that stopped waiting after dispatch: its
                    // output is dropped.
                    if let Err(unsent) = reply.send(Ok(output)) {
                        drop_quietly(unsent);
                    }
                }
            }
            Err(error) => {
                Counters::add(&counters.failed, expected);
                let name = &self.config.name;
                match &error {
                    BatchError::Failed(_) => {
                        Counters::add(&counters.fail_error, 1);
                        tracing::debug!(target: "perfect21_batch", batcher = %name, "batch function returned an error");
                    }
                    BatchError::OutputCountMismatch { actual, .. } => {
                        Counters::add(&counters.fail_mismatch, 1);
                        tracing::warn!(target: "perfect21_batch", batcher = %name, expected, actual, "batch function returned the wrong number of outputs");
                    }
                    BatchError::Panicked { message } => {
                        Counters::add(&counters.fail_panic, 1);
                        tracing::warn!(target: "perfect21_batch", batcher = %name, %message, "batch function panicked");
                    }
                    BatchError::Timeout { after } => {
                        Counters::add(&counters.fail_timeout, 1);
                        tracing::warn!(target: "perfect21_batch", batcher = %name, ?after, "batch function timed out");
                    }
                    BatchError::Closed | BatchError::Aborted => {}
                }
                let mut replies = replies.into_iter();
                let last = replies.next_back();
                for reply in replies {
                    if let Err(unsent) = reply.send(Err(clone_error(&error))) {
                        drop_quietly(unsent);
                    }
                }
                match last {
                    Some(reply) => {
                        if let Err(unsent) = reply.send(Err(error)) {
                            drop_quietly(unsent);
                        }
                    }
                    None => drop_quietly(error),
                }
            }
        }
    }
}

/// The reply channels of a running batch. If the batch is dropped before
/// it delivers (its task was dropped: the runtime shut down), the callers
/// still waiting are counted as aborted, before their channels close.
struct Unanswered<'a, O, E> {
    replies: Vec<oneshot::Sender<Outcome<O, E>>>,
    counters: &'a Counters,
}

impl<O, E> Drop for Unanswered<'_, O, E> {
    fn drop(&mut self) {
        Counters::add(&self.counters.aborted, self.replies.len());
    }
}
