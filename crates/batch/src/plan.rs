//! Which distinct key answers each request of a keyed batch: identical
//! keys in one batch share one load.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

/// The distinct keys of a batch, and which of them answers each request.
pub(crate) struct Plan<K> {
    /// Distinct key → its position in `unique`.
    pub(crate) slots: HashMap<K, usize>,
    /// The distinct keys, in order of first request.
    pub(crate) unique: Vec<K>,
    /// Request `i` is answered by `unique[slot_of[i]]`.
    pub(crate) slot_of: Vec<usize>,
}

impl<K: Hash + Eq + Clone> Plan<K> {
    pub(crate) fn new(keys: Vec<K>) -> Self {
        let mut slots = HashMap::with_capacity(keys.len());
        let mut unique = Vec::with_capacity(keys.len());
        let mut slot_of = Vec::with_capacity(keys.len());
        for key in keys {
            let next = unique.len();
            match slots.entry(key) {
                Entry::Occupied(slot) => slot_of.push(*slot.get()),
                Entry::Vacant(slot) => {
                    unique.push(slot.key().clone());
                    slot.insert(next);
                    slot_of.push(next);
                }
            }
        }
        Self {
            slots,
            unique,
            slot_of,
        }
    }

    /// Requests answered by an earlier request's key in the same batch.
    pub(crate) fn duplicates(&self) -> usize {
        self.slot_of.len() - self.unique.len()
    }

    /// How many requests each distinct key answers.
    pub(crate) fn requests_per_key(&self) -> Vec<usize> {
        let mut counts = vec![0; self.unique.len()];
        for &slot in &self.slot_of {
            if let Some(count) = counts.get_mut(slot) {
                *count += 1;
            }
        }
        counts
    }

    /// One answer per request, in request order, from one value per
    /// distinct key.
    pub(crate) fn route<V: Clone>(&self, values: &[Option<V>]) -> Vec<Option<V>> {
        self.slot_of
            .iter()
            .map(|&slot| values.get(slot).cloned().flatten())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_each_request_to_its_key() {
        let plan = Plan::new(vec!["b", "a", "b", "c", "a"]);
        assert_eq!(plan.duplicates(), 2);
        assert_eq!(plan.unique, ["b", "a", "c"]);
        assert_eq!(plan.requests_per_key(), [2, 2, 1]);
        let answers = plan.route(&[Some(2), Some(1), None]);
        assert_eq!(answers, [Some(2), Some(1), Some(2), None, Some(1)]);
    }
}
