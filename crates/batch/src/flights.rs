//! The keys being loaded right now, across batches. A keyed batch that
//! starts while another batch in flight is loading one of its keys joins
//! that load instead of loading the key again (DataLoader semantics).
//!
//! A batch *claims* its distinct keys at once, under one lock: those
//! nobody is loading become its own flight, the others are joined. Waits
//! therefore only ever go from a later batch to an earlier one, so joins
//! cannot deadlock. The leader's [`Leading`] guard ends the flight exactly
//! once: [`land`](Leading::land) publishes what the load found; dropping it
//! unlanded (the load failed, panicked, timed out, or the batch was
//! dropped) closes the flight, and each joiner loads the key itself — a
//! joiner gets the value or its own batch's outcome, never a hang.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::watch;

/// What a landed load found, for each key it loaded (`None`: not found).
/// Behind a lock so that only `K, V: Send` is asked of the caller.
pub(crate) type Landed<K, V> = Mutex<HashMap<K, Option<V>>>;

/// A flight's outcome: `None` until it lands.
type Outcome<K, V> = Option<Arc<Landed<K, V>>>;

/// A flight's outcome, as its joiners see it.
pub(crate) type Signal<K, V> = watch::Receiver<Outcome<K, V>>;

/// The keys in flight, each with its flight's signal.
pub(crate) struct Flights<K, V> {
    in_flight: Mutex<HashMap<K, Signal<K, V>>>,
}

/// A batch's share of the keys: those it loads, those it joins.
pub(crate) struct Claim<K: Hash + Eq + Clone, V> {
    pub(crate) lead: Leading<K, V>,
    /// `(index in the batch's distinct keys, key, the flight loading it)`.
    pub(crate) joins: Vec<(usize, K, Signal<K, V>)>,
}

impl<K: Hash + Eq + Clone, V> Flights<K, V> {
    pub(crate) fn new() -> Self {
        Self {
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// Claims `keys` (distinct): joins each one in flight, leads the rest.
    pub(crate) fn claim(self: &Arc<Self>, keys: &[K]) -> Claim<K, V> {
        let (sender, signal) = watch::channel(None);
        let mut lead = Leading {
            flights: Arc::clone(self),
            signal: signal.clone(),
            sender: Some(sender),
            keys: Vec::new(),
            indexes: Vec::new(),
            registered: true,
        };
        let mut joins = Vec::new();
        let mut in_flight = self.in_flight.lock();
        for (index, key) in keys.iter().enumerate() {
            match in_flight.get(key) {
                // A flight whose leader is gone without landing (left
                // behind only if cleaning up was impossible) is replaced.
                Some(flight) if flight.has_changed().is_ok() => {
                    joins.push((index, key.clone(), flight.clone()));
                }
                _ => {
                    lead.keys.push(key.clone());
                    lead.indexes.push(index);
                    in_flight.insert(key.clone(), signal.clone());
                }
            }
        }
        drop(in_flight);
        Claim { lead, joins }
    }

    /// Takes the leader's keys out of the map (those still pointing at its
    /// flight). Removed entries are dropped after the lock is released.
    fn release(&self, keys: &[K], flight: &Signal<K, V>) {
        let mut removed = Vec::new();
        let mut in_flight = self.in_flight.lock();
        for key in keys {
            if in_flight
                .get(key)
                .is_some_and(|current| current.same_channel(flight))
            {
                removed.extend(in_flight.remove_entry(key));
            }
        }
        drop(in_flight);
        drop(removed);
    }

    /// Keys in flight now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.in_flight.lock().len()
    }
}

/// The flight a batch leads: the keys it loads for itself and for joiners.
pub(crate) struct Leading<K: Hash + Eq + Clone, V> {
    flights: Arc<Flights<K, V>>,
    signal: Signal<K, V>,
    sender: Option<watch::Sender<Outcome<K, V>>>,
    /// The keys this batch loads …
    pub(crate) keys: Vec<K>,
    /// … and their indexes in the batch's distinct keys.
    pub(crate) indexes: Vec<usize>,
    /// Whether `keys` are still in the map.
    registered: bool,
}

impl<K: Hash + Eq + Clone, V> Leading<K, V> {
    /// Ends the flight with what the load found: takes the keys out of the
    /// map (later batches load them afresh), then wakes the joiners.
    /// `found` is the user's result: if iterating it panics, the flight
    /// closes unlanded and the joiners load the keys themselves.
    pub(crate) fn land(mut self, found: impl IntoIterator<Item = (K, V)>) -> Arc<Landed<K, V>> {
        self.unregister();
        let mut values: HashMap<K, Option<V>> = std::mem::take(&mut self.keys)
            .into_iter()
            .map(|key| (key, None))
            .collect();
        for (key, value) in found {
            if let Some(slot) = values.get_mut(&key) {
                *slot = Some(value);
            }
        }
        let landed = Arc::new(Mutex::new(values));
        if let Some(sender) = self.sender.take() {
            sender.send_replace(Some(Arc::clone(&landed)));
        }
        landed
    }

    fn unregister(&mut self) {
        if std::mem::replace(&mut self.registered, false) {
            self.flights.release(&self.keys, &self.signal);
        }
    }
}

impl<K: Hash + Eq + Clone, V> Drop for Leading<K, V> {
    fn drop(&mut self) {
        // Unlanded: the sender drops (below), closing the flight. The map
        // is cleaned unless a panic is unwinding through here: that could
        // only be the user's `Hash`/`Eq`/`Clone` of `K` panicking during
        // `claim`, and calling them again now could abort the process.
        // An entry left behind points at a closed flight, which `claim`
        // replaces.
        if !std::thread::panicking() {
            self.unregister();
        }
    }
}
