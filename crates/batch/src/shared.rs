//! The state every handle, submission and batch task shares — the queue,
//! the in-flight count, the closed flag — and the one decision of when a
//! batch goes out.
//!
//! Invariant: after every change of state, every batch that is ready under
//! the policy has been dispatched, except batches made ready by the passing
//! of time alone, which the timer task dispatches
//! ([`FlushPolicy::Fixed`] only). User code (the batch function, an item's
//! `Drop`) never runs under the lock.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::{Notify, Semaphore, oneshot};
use tokio::time::Instant;

use crate::config::Config;
use crate::policy::{FlushPolicy, FlushReason};
use crate::queue::{Entry, Queue};
use crate::stats::{self, BatchStats, Counters, Histograms, QueueCounts};
use crate::submission::{Cancel, Ticket};
use crate::sync::{Mutex, thread_local};
use crate::unwind::drop_quietly;

/// A boxed, sendable future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The batch function, type-erased.
pub(crate) type BatchFn<I, O, E> =
    Box<dyn Fn(Vec<I>) -> BoxFuture<Result<Vec<O>, E>> + Send + Sync>;

/// What every part of a batcher shares.
pub(crate) struct Shared<I, O, E> {
    state: Mutex<State<I, O, E>>,
    pub(crate) config: Config,
    pub(crate) batch_fn: BatchFn<I, O, E>,
    /// One permit per free place in the queue. Submitters take one before
    /// queueing (and forget it); it comes back when the item leaves the
    /// queue, dispatched or cancelled.
    pub(crate) room: Semaphore,
    pub(crate) counters: Arc<Counters>,
    pub(crate) histograms: Mutex<Histograms>,
    /// Woken when the batcher is closed and nothing is queued or in flight.
    drained: Notify,
    /// Wakes the timer task ([`FlushPolicy::Fixed`]).
    pub(crate) timer: Notify,
    pub(crate) runtime: Handle,
}

struct State<I, O, E> {
    queue: Queue<I, O, E>,
    in_flight: usize,
    closed: bool,
    /// A batch task was dropped unfinished: the runtime has shut down, and
    /// its timer with it. Everything queued is flushed at once from then
    /// on (to be aborted), as when closing.
    runtime_lost: bool,
    /// Ids go to accepted items only, in order: this is also the number of
    /// items submitted so far.
    next_id: u64,
    cancelled: u64,
}

impl<I, O, E> State<I, O, E> {
    fn drained(&self) -> bool {
        self.closed && self.in_flight == 0 && self.queue.is_empty()
    }
}

/// Items taken from the queue to run together.
///
/// A batch dropped with its entries still in it (its task was dropped
/// unpolled: the runtime shut down) counts them as aborted; their callers
/// see [`BatchError::Aborted`](crate::BatchError::Aborted).
pub(crate) struct Batch<I, O, E> {
    pub(crate) entries: Vec<Entry<I, O, E>>,
    pub(crate) reason: FlushReason,
    pub(crate) dispatched: Instant,
    pub(crate) counters: Arc<Counters>,
}

impl<I, O, E> Drop for Batch<I, O, E> {
    fn drop(&mut self) {
        // Counted before the entries (and their reply senders) drop, so a
        // caller that sees `Aborted` finds it counted.
        Counters::add(&self.counters.aborted, self.entries.len());
    }
}

/// An item just queued: its ticket, and the batch its arrival made ready
/// (if any), for the caller to run or launch.
pub(crate) struct Queued<I, O, E> {
    pub(crate) ticket: Ticket<O, E>,
    pub(crate) ready: Option<Batch<I, O, E>>,
}

/// What the timer task does next.
pub(crate) enum TimerStep {
    /// The batcher is closed: closing flushed the queue, nothing is left
    /// for the timer.
    Exit,
    /// Sleep until this deadline (the oldest item's `max_wait`), or until
    /// woken if `None`.
    Sleep(Option<Instant>),
}

impl<I, O, E> Shared<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    pub(crate) fn new(
        config: Config,
        batch_fn: BatchFn<I, O, E>,
        counters: Arc<Counters>,
        runtime: Handle,
    ) -> Self {
        Self {
            state: Mutex::new(State {
                queue: Queue::new(),
                in_flight: 0,
                closed: false,
                runtime_lost: false,
                next_id: 0,
                cancelled: 0,
            }),
            room: Semaphore::new(config.queue_capacity),
            config,
            batch_fn,
            counters,
            histograms: Mutex::new(Histograms::new()),
            drained: Notify::new(),
            timer: Notify::new(),
            runtime,
        }
    }

    /// Queues an item whose room permit the caller has already taken (and
    /// forgotten). If that makes a batch ready, the batch is returned for
    /// the caller to run ([`lead`](Self::lead)) or [`launch`](Self::launch).
    /// Hands the item back if the batcher is closed.
    pub(crate) fn enqueue(self: &Arc<Self>, item: I) -> Result<Queued<I, O, E>, I> {
        let (reply, receiver) = oneshot::channel();
        let now = Instant::now();
        let mut state = self.state.lock();
        if state.closed {
            return Err(item);
        }
        let id = state.next_id;
        state.next_id += 1;
        let was_empty = state.queue.is_empty();
        state.queue.push(Entry {
            id,
            item,
            reply,
            enqueued: now,
        });
        let batch = self.next_batch(&mut state, now);
        drop(state);
        match &batch {
            Some(batch) => self.room.add_permits(batch.entries.len()),
            None if was_empty && self.config.policy == FlushPolicy::Fixed => {
                self.timer.notify_one();
            }
            None => {}
        }
        Ok(Queued {
            ticket: Ticket {
                id,
                reply: receiver,
            },
            ready: batch,
        })
    }

    /// The next batch to dispatch now, if the policy says one is ready and
    /// a slot is free; takes the slot.
    fn next_batch(&self, state: &mut State<I, O, E>, now: Instant) -> Option<Batch<I, O, E>> {
        let config = &self.config;
        if state.in_flight >= config.max_concurrent_batches {
            return None;
        }
        let oldest = state.queue.oldest()?;
        let reason = if state.closed || state.runtime_lost {
            FlushReason::Shutdown
        } else if state.queue.len() >= config.max_batch_size {
            FlushReason::Size
        } else {
            match config.policy {
                FlushPolicy::Eager => FlushReason::Eager,
                FlushPolicy::Fixed if now.saturating_duration_since(oldest) >= config.max_wait => {
                    FlushReason::Time
                }
                FlushPolicy::Fixed => return None,
            }
        };
        state.in_flight += 1;
        Some(Batch {
            entries: state.queue.take_front(config.max_batch_size),
            reason,
            dispatched: now,
            counters: Arc::clone(&self.counters),
        })
    }

    /// A batch finished: frees its slot and, if another batch is ready,
    /// takes the slot again for it (the caller runs it on the same task).
    pub(crate) fn finish(&self) -> Option<Batch<I, O, E>> {
        let now = Instant::now();
        let mut state = self.state.lock();
        state.in_flight -= 1;
        let next = self.next_batch(&mut state, now);
        let drained = state.drained();
        let wake_timer =
            next.is_none() && !state.queue.is_empty() && self.config.policy == FlushPolicy::Fixed;
        drop(state);
        if let Some(batch) = &next {
            self.room.add_permits(batch.entries.len());
        }
        if drained {
            self.drained.notify_waiters();
        }
        if wake_timer {
            // A slot is free again: the timer may now have a deadline.
            self.timer.notify_one();
        }
        next
    }

    /// A batch task ended without finishing (its runtime shut down): frees
    /// its slot, then flushes as [`runtime_lost`](Self::runtime_lost).
    pub(crate) fn release_slot(self: &Arc<Self>) {
        self.state.lock().in_flight -= 1;
        self.runtime_lost();
    }

    /// A task of the batcher (a batch, or the timer) was dropped unfinished:
    /// the runtime has shut down. Flushes the queue from now on, so nothing
    /// queued waits for a later submit, or for a timer that died with the
    /// runtime, to move: each batch is launched onto the dead runtime and
    /// aborted at once. That drop releases its slot again from inside this
    /// call: the inner call only frees the slot, and this outer one goes on
    /// dispatching, so the stack does not grow with the queue.
    // loom's `thread_local!` takes no `const` initialiser.
    #[allow(clippy::missing_const_for_thread_local)]
    pub(crate) fn runtime_lost(self: &Arc<Self>) {
        thread_local! {
            static RELEASING: Cell<bool> = Cell::new(false);
        }
        self.state.lock().runtime_lost = true;
        if RELEASING.with(|releasing| releasing.replace(true)) {
            return;
        }
        loop {
            let now = Instant::now();
            let mut state = self.state.lock();
            let next = self.next_batch(&mut state, now);
            let drained = state.drained();
            drop(state);
            match next {
                Some(batch) => {
                    self.room.add_permits(batch.entries.len());
                    self.launch(batch);
                }
                None => {
                    if drained {
                        self.drained.notify_waiters();
                    }
                    break;
                }
            }
        }
        RELEASING.with(|releasing| releasing.set(false));
    }

    /// One round of the timer task: dispatches what `max_wait` made ready
    /// and says how long to sleep.
    pub(crate) fn timer_step(self: &Arc<Self>) -> TimerStep {
        let now = Instant::now();
        let mut batches = Vec::new();
        let mut state = self.state.lock();
        if state.closed {
            return TimerStep::Exit;
        }
        while let Some(batch) = self.next_batch(&mut state, now) {
            batches.push(batch);
        }
        let deadline = match state.queue.oldest() {
            // With every slot taken, the next `finish` dispatches or wakes
            // the timer; there is no deadline to keep meanwhile.
            Some(oldest) if state.in_flight < self.config.max_concurrent_batches => {
                Some(oldest + self.config.max_wait)
            }
            _ => None,
        };
        drop(state);
        for batch in batches {
            self.room.add_permits(batch.entries.len());
            self.launch(batch);
        }
        TimerStep::Sleep(deadline)
    }

    /// Stops accepting items and dispatches everything queued, as slots
    /// allow, without waiting for size or time. Idempotent.
    pub(crate) fn close(self: &Arc<Self>) {
        let now = Instant::now();
        let mut batches = Vec::new();
        let mut state = self.state.lock();
        if state.closed {
            return;
        }
        state.closed = true;
        while let Some(batch) = self.next_batch(&mut state, now) {
            batches.push(batch);
        }
        let drained = state.drained();
        drop(state);
        self.room.close();
        self.timer.notify_one();
        tracing::debug!(
            target: "perfect21_batch",
            batcher = %self.config.name,
            batches = batches.len(),
            "closing: flushing the queue"
        );
        for batch in batches {
            self.room.add_permits(batch.entries.len());
            self.launch(batch);
        }
        if drained {
            self.drained.notify_waiters();
        }
    }

    /// Waits until the batcher is closed and has nothing queued or in
    /// flight.
    pub(crate) async fn wait_drained(&self) {
        loop {
            let notified = self.drained.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.state.lock().drained() {
                return;
            }
            notified.await;
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// Counts an item refused at the door.
    pub(crate) fn rejected(&self) {
        Counters::add(&self.counters.rejected, 1);
    }

    pub(crate) fn stats(&self) -> BatchStats {
        let queue = {
            let state = self.state.lock();
            QueueCounts {
                submitted: state.next_id,
                cancelled: state.cancelled,
                in_flight_batches: state.in_flight,
                queued_items: state.queue.len(),
            }
        };
        stats::snapshot(queue, &self.counters, &self.histograms.lock())
    }
}

impl<I, O, E> Cancel for Shared<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    fn cancel(&self, id: u64) {
        let removed = {
            let mut state = self.state.lock();
            let removed = state.queue.remove(id);
            state.cancelled += u64::from(removed.is_some());
            removed
        };
        if let Some(entry) = removed {
            self.room.add_permits(1);
            // Dropped here, outside the lock: the item's `Drop` is user code.
            drop_quietly(entry);
        }
    }
}
