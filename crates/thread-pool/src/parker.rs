//! A parked worker's bed: one wake-up token, a wait with an optional
//! timeout. The pool's own primitive (not `std::thread::park`), so a task
//! that parks its thread — a blocking `join` — can neither steal nor fake
//! the worker's wake-up, and so loom can model it.

use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use crate::sync::{self, AtomicUsize, Condvar, Mutex};

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

#[derive(Debug)]
pub(crate) struct Parker {
    state: AtomicUsize,
    lock: Mutex<()>,
    condvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Self {
        Self {
            state: AtomicUsize::new(EMPTY),
            lock: Mutex::new(()),
            condvar: Condvar::new(),
        }
    }

    /// Blocks until [`unpark`](Self::unpark) — or until `timeout` has
    /// passed, when there is one. Returns whether it was woken by a token
    /// (which it consumes); a token given before the call returns at once.
    pub(crate) fn park(&self, timeout: Option<Duration>) -> bool {
        if self.take_token() {
            return true;
        }
        if timeout == Some(Duration::ZERO) {
            return false;
        }
        let deadline = sync::deadline(timeout);
        let mut guard = sync::lock(&self.lock);
        if self
            .state
            .compare_exchange(EMPTY, PARKED, SeqCst, SeqCst)
            .is_err()
        {
            // The token arrived between the first check and the lock.
            self.state.store(EMPTY, SeqCst);
            return true;
        }
        loop {
            let (next, timed_out) = sync::wait_until(&self.condvar, guard, deadline);
            guard = next;
            if self.take_token() {
                return true;
            }
            if timed_out {
                // Leave PARKED, unless a token arrived at the last moment.
                return self.state.swap(EMPTY, SeqCst) == NOTIFIED;
            }
        }
    }

    /// Gives the token, waking the parked thread if there is one. Tokens do
    /// not add up: two calls before a `park` wake it once.
    pub(crate) fn unpark(&self) {
        if self.state.swap(NOTIFIED, SeqCst) != PARKED {
            return;
        }
        // The parker holds the lock from its PARKED store until its wait
        // releases it: taking the lock here means it is waiting.
        drop(sync::lock(&self.lock));
        self.condvar.notify_one();
    }

    fn take_token(&self) -> bool {
        self.state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
    }
}
