//! Single-flight: one loader runs per missing key; the callers that ask for
//! the same key meanwhile wait for it to land and share its value.
//!
//! A [`Flight`] is created by the caller that found the key missing (the
//! leader) and registered in the key's shard; callers that find it there
//! wait on it outside the shard's lock. The leader lands it exactly once:
//! with the value, or as failed (its loader returned an error or panicked —
//! [`Landing`]'s `Drop` covers the panic). A failed flight sends its waiters
//! back to look again: one of them becomes the next leader.
//!
//! The leader owns its flight through a [`Landing`] from the moment the
//! flight is registered, before anything runs user code (the eviction
//! listener, the loader, the weigher, the hasher): whatever panics, the
//! flight is unregistered and landed exactly once, and the load is counted
//! once — as a failure only when the loader itself failed or panicked.

use crate::concurrent::Shard;
use crate::sync::{Arc, Condvar, Mutex, RwLock};

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

/// How far the leader got; decides what a [`Landing`] dropped unlanded
/// counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Registered; the loader has not run (something before it panicked).
    Registered,
    /// The loader is running: a drop now means it failed or panicked.
    Loading,
    /// The loader returned a value; what follows (weigher, insert) is not
    /// the loader's failure.
    Loaded,
    /// Landed: nothing left to do.
    Landed,
}

/// The leader's obligation to land its flight: [`land`](Self::land) with
/// the value on success; dropped unlanded (an error returned by the loader,
/// or a panic anywhere), it unregisters the flight, counts what ran and
/// lands it as failed, releasing the waiters.
pub(crate) struct Landing<'a, K, V> {
    shard: &'a RwLock<Shard<K, V>>,
    flight: Arc<Flight<V>>,
    pub(crate) phase: Phase,
}

impl<'a, K, V> Landing<'a, K, V> {
    /// Owns `flight`, already registered in `shard`.
    pub(crate) fn new(shard: &'a RwLock<Shard<K, V>>, flight: Arc<Flight<V>>) -> Self {
        Self {
            shard,
            flight,
            phase: Phase::Registered,
        }
    }

    /// Removes the flight from its shard (called under the shard's lock).
    fn unregister(&self, shard: &mut Shard<K, V>) {
        if let Some(pos) = shard
            .flights
            .iter()
            .position(|(_, f)| Arc::ptr_eq(f, &self.flight))
        {
            shard.flights.swap_remove(pos);
        }
    }

    /// Unregisters the flight, counts the successful load and lands the
    /// flight with `value` (called under the shard's lock).
    pub(crate) fn land(&mut self, shard: &mut Shard<K, V>, value: Option<V>) {
        self.unregister(shard);
        shard.core.stats.loads += 1;
        self.phase = Phase::Landed;
        self.flight.land(value);
    }
}

impl<K, V> Drop for Landing<'_, K, V> {
    fn drop(&mut self) {
        if self.phase == Phase::Landed {
            return;
        }
        {
            let mut shard = self.shard.write();
            self.unregister(&mut shard);
            let stats = &mut shard.core.stats;
            match self.phase {
                Phase::Loading => {
                    stats.loads += 1;
                    stats.load_failures += 1;
                }
                Phase::Loaded => stats.loads += 1,
                Phase::Registered | Phase::Landed => {}
            }
        }
        self.flight.land(None);
    }
}
