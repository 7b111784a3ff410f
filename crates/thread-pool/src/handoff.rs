//! The hand-off between submitters and workers: every accepted task's
//! one delivery.
//!
//! # The hand-off
//!
//! Every accepted task gets exactly one *delivery*, decided lock-free from
//! one reading of the state word after the task is admitted (`deliver`):
//!
//! 1. a spinning worker's token is taken — that spinner picks the task up
//!    within microseconds, no system call;
//! 2. else the most recently parked worker is taken off the idle stack and
//!    unparked;
//! 3. else, unless spinners already on their way to the queue outnumber the
//!    queued tasks, below `max_threads` and if the scaling policy agrees
//!    (always, when no thread exists), a thread is started for it — at once,
//!    not at the next resize;
//! 4. else every thread is busy: the task waits for the first to finish.
//!
//! A worker never sleeps on a task it could run: it announces itself idle
//! (spinning, then parked) with a `SeqCst` read-modify-write of the state
//! word and *then* reads the queue count, while a submitter increments the
//! count and *then* reads the state word. Whichever comes second sees the
//! other: the worker finds the task, or the submitter finds the worker.

use std::sync::Arc;

use crate::pool_state::PoolState;
use crate::sync;

impl PoolState {
    /// Gives a just-queued task its delivery (see the module docs).
    pub(crate) fn deliver(self: &Arc<Self>) {
        let max = self.config.max_threads;
        // The task is admitted (counted in the queue word): now look.
        sync::announce_then_look();
        let mut seen = self.workers.load();
        loop {
            if seen.spinning() > 0 {
                if self.workers.take_spinner(seen) {
                    return;
                }
            } else if seen.parked() > 0 {
                if let Some(worker) = self.idle.claim(&self.workers) {
                    worker.unpark();
                    return;
                }
            } else {
                if seen.is_closed() || seen.threads() >= max {
                    return;
                }
                // Spinners in transit take one task each: as many of them as
                // tasks queued, and this task needs no thread of its own (an
                // empty queue: it was taken already). The queue is read
                // first: a worker leaves transit before the count drops.
                let queued = self.queue.len();
                let now = self.workers.load();
                if now != seen {
                    seen = now;
                    continue;
                }
                if queued <= seen.transit() {
                    return;
                }
                let none = seen.threads() == 0;
                if !none && !self.ask_policy(|policy, load| policy.grow(load), seen) {
                    return;
                }
                if self.workers.try_add_thread(seen, max, false).is_ok() {
                    let reason = if none {
                        "a task arrived and no thread was running"
                    } else {
                        "a task arrived and no worker was idle"
                    };
                    // A refusal is logged; the task stays queued for the
                    // next thread (or the shutdown) to run.
                    let _ = self.start_thread(seen.threads() + 1, reason, false);
                    return;
                }
            }
            seen = self.workers.load();
        }
    }
}
