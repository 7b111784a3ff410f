//! Iteration over an [`LruCache`](crate::LruCache), most to least recently
//! used (or back with `.rev()`), skipping expired entries.

use std::iter::FusedIterator;

use crate::list::{List, NIL};

/// The live entries of an [`LruCache`](crate::LruCache), most recently used
/// first; from [`LruCache::iter`](crate::LruCache::iter). Does not change the
/// order.
#[derive(Debug)]
pub struct Iter<'a, K, V> {
    list: &'a List<K, V>,
    front: u32,
    back: u32,
    /// Nodes not yet passed by either end (expired ones included).
    remaining: usize,
    /// The time the iteration started, when any entry may be expired.
    now: Option<u64>,
}

impl<'a, K, V> Iter<'a, K, V> {
    pub(crate) fn new(list: &'a List<K, V>, now: Option<u64>) -> Self {
        Self {
            list,
            front: list.head(),
            back: list.tail(),
            remaining: list.len(),
            now,
        }
    }

    fn live(&self, i: u32) -> bool {
        self.now
            .is_none_or(|now| !self.list.node(i).is_expired(now))
    }
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        while self.remaining > 0 && self.front != NIL {
            let i = self.front;
            self.front = self.list.next_of(i);
            self.remaining -= 1;
            if self.live(i) {
                let node = self.list.node(i);
                return Some((&node.key, &node.value));
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let low = if self.now.is_none() {
            self.remaining
        } else {
            0
        };
        (low, Some(self.remaining))
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        while self.remaining > 0 && self.back != NIL {
            let i = self.back;
            self.back = self.list.prev_of(i);
            self.remaining -= 1;
            if self.live(i) {
                let node = self.list.node(i);
                return Some((&node.key, &node.value));
            }
        }
        None
    }
}

impl<K, V> FusedIterator for Iter<'_, K, V> {}
