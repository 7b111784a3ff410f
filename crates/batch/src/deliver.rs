//! Handing each caller of a finished batch its own outcome — output `i`
//! to caller `i`, or the batch's error to every caller — and counting it;
//! callers a lost batch never answers are counted as aborted.

use tokio::sync::oneshot;

use crate::error::BatchError;
use crate::queue::Outcome;
use crate::shared::Shared;
use crate::stats::Counters;
use crate::unwind::{clone_error, drop_quietly};

impl<I, O, E> Shared<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    /// Hands output `i` to caller `i`, or the batch's error to every caller.
    pub(crate) fn deliver(
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
pub(crate) struct Unanswered<'a, O, E> {
    pub(crate) replies: Vec<oneshot::Sender<Outcome<O, E>>>,
    pub(crate) counters: &'a Counters,
}

impl<O, E> Drop for Unanswered<'_, O, E> {
    fn drop(&mut self) {
        Counters::add(&self.counters.aborted, self.replies.len());
    }
}
