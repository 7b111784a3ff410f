//! `TaskHandle<R>`: the result of a spawned task, to `join` (blocking) or
//! `.await` (any runtime), and the one-shot slot it shares with the task.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::task::{Context, Poll, Waker};

use crate::error::TaskError;
use crate::panic::{drop_quietly, panic_message};
use crate::sync::{self, AtomicBool, Condvar, Mutex};
use crate::task::{Outcome, Runnable};

/// The outcome a task leaves in its slot.
type Finished<R> = Result<R, TaskError>;

/// What a task and its handle share.
struct Slot<R> {
    /// Set (with `Release`) once the outcome is in `inner`.
    done: AtomicBool,
    inner: Mutex<Inner<R>>,
    joined: Condvar,
}

struct Inner<R> {
    outcome: Option<Finished<R>>,
    /// The outcome was handed out.
    taken: bool,
    /// The handle still exists (dropping it detaches the task).
    attached: bool,
    /// A thread is blocked in `join`.
    joiner: bool,
    waker: Option<Waker>,
}

impl<R> Slot<R> {
    fn new() -> Self {
        Self {
            done: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                outcome: None,
                taken: false,
                attached: true,
                joiner: false,
                waker: None,
            }),
            joined: Condvar::new(),
        }
    }

    /// Stores the outcome and wakes whoever waits. If the handle is gone,
    /// hands the outcome back (to be dropped, or a panic to go to the
    /// panic handler).
    fn complete(&self, outcome: Finished<R>) -> Option<Finished<R>> {
        let mut inner = sync::lock(&self.inner);
        if !inner.attached {
            return Some(outcome);
        }
        inner.outcome = Some(outcome);
        self.done.store(true, Release);
        let waker = inner.waker.take();
        let joiner = inner.joiner;
        drop(inner);
        if joiner {
            self.joined.notify_all();
        }
        if let Some(waker) = waker {
            // The waker is the caller's runtime's code: a panic there is not
            // the task's (which has returned), so it is logged, not counted.
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake())) {
                tracing::error!(
                    target: "perfect21_thread_pool",
                    panic = %panic_message(payload.as_ref()),
                    "the waker of an awaited task handle panicked"
                );
                drop_quietly(payload);
            }
        }
        None
    }

    fn take(inner: &mut Inner<R>) -> Option<Finished<R>> {
        if inner.taken {
            return Some(Err(TaskError::AlreadyTaken));
        }
        let outcome = inner.outcome.take()?;
        inner.taken = true;
        Some(outcome)
    }
}

/// The handle of a task started with [`ThreadPool::spawn`](crate::ThreadPool::spawn)
/// or [`Scope::spawn`](crate::Scope::spawn): its value, or why there is
/// none.
///
/// - [`join`](Self::join) blocks the calling thread until the task ends;
/// - the handle is a [`Future`] too, awaitable from any async runtime (it
///   stores the waker and wakes it when the task ends; no runtime is
///   needed by this crate);
/// - [`try_join`](Self::try_join) and [`is_finished`](Self::is_finished)
///   never block;
/// - dropping the handle detaches the task: it still runs, its value is
///   dropped, and a panic goes to the pool's panic handler.
pub struct TaskHandle<R> {
    slot: Arc<Slot<R>>,
}

impl<R> std::fmt::Debug for TaskHandle<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<R> TaskHandle<R> {
    /// Waits for the task and returns its value, or
    /// [`TaskError::Panicked`] / [`TaskError::Cancelled`].
    ///
    /// Joining, from a task of the same pool, a task that is still queued
    /// needs a free thread to run it: at `max_threads` with every thread
    /// joining, this waits for ever.
    pub fn join(self) -> Result<R, TaskError> {
        let mut inner = sync::lock(&self.slot.inner);
        loop {
            if let Some(outcome) = Slot::take(&mut inner) {
                return outcome;
            }
            inner.joiner = true;
            inner = match self.slot.joined.wait(inner) {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
    }

    /// The outcome if the task has ended (`None` while it is queued or
    /// running). Once it returned `Some`, later calls (and `join`, and
    /// `.await`) give [`TaskError::AlreadyTaken`].
    pub fn try_join(&mut self) -> Option<Result<R, TaskError>> {
        if !self.is_finished() {
            return None;
        }
        Slot::take(&mut sync::lock(&self.slot.inner))
    }

    /// Whether the task has ended (its outcome is ready).
    pub fn is_finished(&self) -> bool {
        self.slot.done.load(Acquire)
    }
}

impl<R> Future for TaskHandle<R> {
    type Output = Result<R, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut inner = sync::lock(&self.slot.inner);
        if let Some(outcome) = Slot::take(&mut inner) {
            return Poll::Ready(outcome);
        }
        match &mut inner.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            waker => *waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<R> Drop for TaskHandle<R> {
    fn drop(&mut self) {
        let mut inner = sync::lock(&self.slot.inner);
        inner.attached = false;
        let outcome = inner.outcome.take();
        let waker = inner.waker.take();
        drop(inner);
        // The task's value (user code) is dropped outside the lock.
        drop(waker);
        drop(outcome);
    }
}

/// A spawned task: the closure and the slot its handle reads.
pub(crate) struct Spawn<F, R> {
    f: Option<F>,
    slot: Arc<Slot<R>>,
}

/// A new task for `f` and its handle.
pub(crate) fn spawn_pair<F, R>(f: F) -> (Spawn<F, R>, TaskHandle<R>) {
    let slot = Arc::new(Slot::new());
    let handle = TaskHandle {
        slot: Arc::clone(&slot),
    };
    (Spawn { f: Some(f), slot }, handle)
}

impl<F, R> Runnable for Spawn<F, R>
where
    F: FnOnce() -> R + Send,
    R: Send,
{
    fn run(mut self: Box<Self>) -> Outcome {
        let Some(f) = self.f.take() else {
            return Outcome::Completed;
        };
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(value) => {
                // A detached task's value is dropped here; its destructor
                // may panic, which the worker catches.
                drop(self.slot.complete(Ok(value)));
                Outcome::Completed
            }
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                match self.slot.complete(Err(TaskError::Panicked(message))) {
                    // Detached: nobody will see the error, the handler will.
                    Some(_) => Outcome::Panicked(Some(payload)),
                    None => {
                        drop_quietly(payload);
                        Outcome::Panicked(None)
                    }
                }
            }
        }
    }
}

impl<F, R> Drop for Spawn<F, R> {
    fn drop(&mut self) {
        if let Some(f) = self.f.take() {
            // Dropped unrun: cancelled. The handle learns it first, so a
            // closure whose captures panic on drop cannot leave it waiting.
            drop(self.slot.complete(Err(TaskError::Cancelled)));
            drop(f);
        }
    }
}
