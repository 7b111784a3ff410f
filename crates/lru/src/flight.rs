//! Single-flight: one loader runs per missing key; the callers that ask for
//! the same key meanwhile wait for it to land and share its value.
//!
//! A [`Flight`] is created by the caller that found the key missing (the
//! leader) and registered in the key's shard; callers that find it there
//! wait on it outside the shard's lock. The leader lands it exactly once:
//! with the value, or as failed (its loader returned an error or panicked —
//! [`Landing`]'s `Drop` covers the panic). A failed flight sends its waiters
//! back to look again: one of them becomes the next leader.

use crate::sync::{Condvar, Mutex};

#[derive(Debug)]
enum State<V> {
    Loading,
    Loaded(V),
    Failed,
}

/// One loader run, awaited by any number of callers.
#[derive(Debug)]
pub(crate) struct Flight<V> {
    state: Mutex<State<V>>,
    landed: Condvar,
}

impl<V> Flight<V> {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State::Loading),
            landed: Condvar::new(),
        }
    }

    /// Lands the flight with `value` (or as failed) and wakes every waiter.
    pub(crate) fn land(&self, value: Option<V>) {
        *self.state.lock() = match value {
            Some(value) => State::Loaded(value),
            None => State::Failed,
        };
        self.landed.notify_all();
    }
}

impl<V: Clone> Flight<V> {
    /// Blocks until the flight lands: its value, or `None` when the loader
    /// failed.
    pub(crate) fn wait(&self) -> Option<V> {
        let mut state = self.state.lock();
        loop {
            match &*state {
                State::Loading => state = self.landed.wait(state),
                State::Loaded(value) => return Some(value.clone()),
                State::Failed => return None,
            }
        }
    }
}
