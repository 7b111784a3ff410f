//! The items waiting for a batch, oldest first, each with its caller's
//! reply channel. Ids grow with every push, so the queue is sorted by id
//! and a cancelled item is found by binary search.

use std::collections::VecDeque;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::error::BatchError;

/// What a caller receives: its output or why there is none.
pub(crate) type Outcome<O, E> = Result<O, BatchError<E>>;

/// One submitted item.
pub(crate) struct Entry<I, O, E> {
    pub(crate) id: u64,
    pub(crate) item: I,
    pub(crate) reply: oneshot::Sender<Outcome<O, E>>,
    pub(crate) enqueued: Instant,
}

/// The queue of waiting items.
pub(crate) struct Queue<I, O, E> {
    entries: VecDeque<Entry<I, O, E>>,
}

impl<I, O, E> Queue<I, O, E> {
    pub(crate) fn new() -> Self {
        Self {
            entries: VecDeque::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// When the oldest item was queued.
    pub(crate) fn oldest(&self) -> Option<Instant> {
        self.entries.front().map(|entry| entry.enqueued)
    }

    /// Appends an entry; its id must be larger than every queued id.
    pub(crate) fn push(&mut self, entry: Entry<I, O, E>) {
        debug_assert!(self.entries.back().is_none_or(|last| last.id < entry.id));
        self.entries.push_back(entry);
    }

    /// Takes the `n` oldest entries (all of them if fewer are queued).
    pub(crate) fn take_front(&mut self, n: usize) -> Vec<Entry<I, O, E>> {
        let n = n.min(self.entries.len());
        self.entries.drain(..n).collect()
    }

    /// Removes the entry with this id, if it is still queued.
    pub(crate) fn remove(&mut self, id: u64) -> Option<Entry<I, O, E>> {
        let index = self.entries.binary_search_by_key(&id, |e| e.id).ok()?;
        self.entries.remove(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64) -> Entry<u64, u64, ()> {
        let (reply, _) = oneshot::channel();
        Entry {
            id,
            item: id * 10,
            reply,
            enqueued: Instant::now(),
        }
    }

    #[tokio::test]
    async fn removes_by_id_and_keeps_order() {
        let mut queue = Queue::new();
        for id in [1, 2, 5, 9] {
            queue.push(entry(id));
        }
        assert_eq!(queue.remove(5).map(|e| e.item), Some(50));
        assert!(queue.remove(5).is_none());
        assert!(queue.remove(3).is_none());
        let taken: Vec<u64> = queue.take_front(2).into_iter().map(|e| e.id).collect();
        assert_eq!(taken, [1, 2]);
        let rest: Vec<u64> = queue.take_front(10).into_iter().map(|e| e.id).collect();
        assert_eq!(rest, [9]);
        assert!(queue.is_empty());
    }
}
