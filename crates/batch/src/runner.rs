//! Who runs a dispatched batch: the submitter that made it ready (on its
//! own task — no spawn, no wake-up) or a task of its own, which then goes on
//! with the next ready batch. Either way the batch holds one of the
//! `max_concurrent_batches` slots until it has finished.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::runtime::Handle;

use crate::shared::{Batch, BoxFuture, Shared};

impl<I, O, E> Shared<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    /// Runs a batch on a new task, which then goes on with every batch that
    /// is ready when the previous one finishes.
    pub(crate) fn launch(self: &Arc<Self>, batch: Batch<I, O, E>) {
        let slot = InFlight {
            shared: Arc::clone(self),
            held: true,
        };
        // On a runtime that has shut down the task is dropped unpolled: the
        // slot is released and the batch's callers see `Aborted`.
        drop(self.runtime.spawn(slot.run(batch)));
    }

    /// Runs a batch on the caller's task (a submitter that made it ready):
    /// no task to spawn, no thread to wake. The next ready batch, if any,
    /// is launched on its own task. If the caller stops waiting, the batch
    /// moves to a task of its own and finishes there.
    pub(crate) fn lead(self: &Arc<Self>, batch: Batch<I, O, E>) -> Lead {
        let slot = InFlight {
            shared: Arc::clone(self),
            held: true,
        };
        Lead {
            run: Some(Box::pin(slot.run_once(batch))),
            runtime: self.runtime.clone(),
        }
    }
}

/// One in-flight slot, held by the task running batches in it. If the task
/// is dropped before the slot is handed back (its runtime shut down), the
/// slot is released on drop.
struct InFlight<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    shared: Arc<Shared<I, O, E>>,
    held: bool,
}

impl<I, O, E> InFlight<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    /// Runs the batch, then every batch that is ready when the previous one
    /// finishes, on this same task.
    async fn run(mut self, mut batch: Batch<I, O, E>) {
        loop {
            self.shared.run_batch(batch).await;
            match self.shared.finish() {
                Some(next) => batch = next,
                None => {
                    self.held = false;
                    return;
                }
            }
        }
    }

    /// Runs the batch, then hands any next ready batch to a task of its own.
    async fn run_once(mut self, batch: Batch<I, O, E>) {
        self.shared.run_batch(batch).await;
        let next = self.shared.finish();
        self.held = false;
        if let Some(next) = next {
            self.shared.launch(next);
        }
    }
}

/// A batch run by the submitter that made it ready; see [`Shared::lead`].
pub(crate) struct Lead {
    run: Option<BoxFuture<()>>,
    runtime: Handle,
}

impl Future for Lead {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(run) = &mut self.run {
            ready!(run.as_mut().poll(cx));
            self.run = None;
        }
        Poll::Ready(())
    }
}

impl Drop for Lead {
    fn drop(&mut self) {
        // The leader stopped waiting: the other callers of the batch still
        // wait for it.
        if let Some(run) = self.run.take() {
            drop(self.runtime.spawn(run));
        }
    }
}

impl<I, O, E> Drop for InFlight<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    fn drop(&mut self) {
        if self.held {
            self.shared.release_slot();
        }
    }
}
