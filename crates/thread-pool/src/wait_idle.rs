//! `wait_idle`: waiting until no task is queued or running; workers notify
//! the waiters when they go idle or exit.

use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Instant;

use crate::pool_state::PoolState;
use crate::sync::{self, AtomicUsize, Condvar, Mutex};

/// Where `wait_idle` waits; workers notify it when they go idle or exit.
#[derive(Debug)]
pub(crate) struct Quiet {
    waiters: AtomicUsize,
    lock: Mutex<()>,
    changed: Condvar,
}

impl Quiet {
    pub(crate) fn new() -> Self {
        Self {
            waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            changed: Condvar::new(),
        }
    }
}

impl PoolState {
    /// Wakes `wait_idle` callers, if any, to re-check.
    pub(crate) fn notify_quiet(&self) {
        sync::announce_then_look();
        if self.quiet.waiters.load(SeqCst) > 0 {
            drop(sync::lock(&self.quiet.lock));
            self.quiet.changed.notify_all();
        }
    }

    /// Waits until no task is queued or running (on this pool's threads;
    /// the calling worker, if it is one, aside), or until `deadline`.
    pub(crate) fn wait_idle(self: &Arc<Self>, deadline: Option<Instant>) -> bool {
        let own = usize::from(self.on_own_worker());
        let quiet = || {
            let seen = self.workers.load();
            self.queue.len() == 0 && seen.threads().saturating_sub(seen.idle()) <= own
        };
        if quiet() {
            return true;
        }
        self.quiet.waiters.fetch_add(1, SeqCst);
        sync::announce_then_look();
        let mut guard = sync::lock(&self.quiet.lock);
        let result = loop {
            if quiet() {
                break true;
            }
            let (next, timed_out) = sync::wait_until(&self.quiet.changed, guard, deadline);
            guard = next;
            if timed_out {
                break quiet();
            }
        };
        drop(guard);
        self.quiet.waiters.fetch_sub(1, SeqCst);
        result
    }
}
