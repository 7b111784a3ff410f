//! The entries, in a dense slab with `u32` links: a doubly linked recency
//! list threaded through a `Vec`, most recently used at the head.
//!
//! The slab is kept dense — slots `0..len` are all live — so no slot needs a
//! vacancy tag and no free list exists: a removal moves the last node into
//! the hole ([`List::swap_remove`]) and tells the caller which index moved,
//! so the caller can repoint its index. An eviction that is followed by an
//! insertion reuses the victim's slot in place ([`List::replace_in_place`]).

/// The "no node" link.
pub(crate) const NIL: u32 = u32::MAX;

/// The largest number of nodes a list can hold (indices are `u32`, `NIL`
/// excluded).
pub(crate) const MAX_NODES: usize = (u32::MAX - 1) as usize;

/// "This entry never expires."
pub(crate) const NEVER: u64 = u64::MAX;

/// One entry and its links.
#[derive(Debug)]
pub(crate) struct Node<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
    /// Towards the head (more recently used); `NIL` at the head.
    prev: u32,
    /// Towards the tail (less recently used); `NIL` at the tail.
    next: u32,
    /// The list's `clock` when this node last went to the head.
    stamp: u32,
    /// The weight recorded when the entry was written.
    pub(crate) weight: u64,
    /// Nanoseconds on the cache's timer after which the entry is expired;
    /// [`NEVER`] for none.
    pub(crate) deadline: u64,
}

impl<K, V> Node<K, V> {
    pub(crate) fn new(key: K, value: V, weight: u64, deadline: u64) -> Self {
        Self {
            key,
            value,
            prev: NIL,
            next: NIL,
            stamp: 0,
            weight,
            deadline,
        }
    }

    /// Whether the entry is expired at `now` (nanoseconds on the timer).
    #[inline]
    pub(crate) fn is_expired(&self, now: u64) -> bool {
        self.deadline != NEVER && now >= self.deadline
    }
}

/// The recency list.
#[derive(Debug)]
pub(crate) struct List<K, V> {
    nodes: Vec<Node<K, V>>,
    head: u32,
    tail: u32,
    /// Counts the nodes put at the head (wrapping). A node whose stamp is
    /// `d` behind it has at most `d` nodes in front of it.
    clock: u32,
}

impl<K, V> List<K, V> {
    pub(crate) fn new() -> Self {
        Self {
            nodes: Vec::new(),
            head: NIL,
            tail: NIL,
            clock: 0,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The most recently used node.
    #[inline]
    pub(crate) fn head(&self) -> u32 {
        self.head
    }

    /// The least recently used node.
    #[inline]
    pub(crate) fn tail(&self) -> u32 {
        self.tail
    }

    #[inline]
    pub(crate) fn node(&self, i: u32) -> &Node<K, V> {
        &self.nodes[i as usize]
    }

    #[inline]
    pub(crate) fn node_mut(&mut self, i: u32) -> &mut Node<K, V> {
        &mut self.nodes[i as usize]
    }

    /// Whether node `i` is among the `window` most recently used — a
    /// conservative test: at most `clock - stamp` nodes went in front of it
    /// since it was at the head.
    #[inline]
    pub(crate) fn is_recent(&self, i: u32, window: u32) -> bool {
        self.clock.wrapping_sub(self.nodes[i as usize].stamp) < window
    }

    /// The neighbour towards the tail.
    #[inline]
    pub(crate) fn next_of(&self, i: u32) -> u32 {
        self.nodes[i as usize].next
    }

    /// The neighbour towards the head.
    #[inline]
    pub(crate) fn prev_of(&self, i: u32) -> u32 {
        self.nodes[i as usize].prev
    }

    /// The key of slot `i` (for rehashing the index).
    #[inline]
    pub(crate) fn key(&self, i: u32) -> &K {
        &self.nodes[i as usize].key
    }

    /// Every node in slot order (not recency order).
    #[cfg(test)]
    pub(crate) fn slots(&self) -> &[Node<K, V>] {
        &self.nodes
    }

    /// Room for `additional` more nodes without going past `limit` slots of
    /// capacity: the slab doubles like a `Vec` but never reserves beyond the
    /// entry bound.
    pub(crate) fn reserve_one(&mut self, limit: usize) {
        if self.nodes.len() == self.nodes.capacity() {
            let cap = self.nodes.capacity();
            let wanted = cap.max(4).min(limit.saturating_sub(cap)).max(1);
            self.nodes.reserve_exact(wanted);
        }
    }

    /// Pushes a node at the head; returns its slot. The caller keeps the
    /// length under [`MAX_NODES`].
    pub(crate) fn push_front(&mut self, node: Node<K, V>) -> u32 {
        let i = self.nodes.len() as u32;
        self.nodes.push(node);
        self.link_front(i);
        i
    }

    /// Makes `i` the most recently used node.
    #[inline]
    pub(crate) fn move_to_front(&mut self, i: u32) {
        let old_head = self.head;
        if old_head == i {
            return;
        }
        // `i` is linked and not the head: it has a predecessor, and the
        // head exists.
        let (prev, next) = {
            let node = &self.nodes[i as usize];
            (node.prev, node.next)
        };
        self.nodes[prev as usize].next = next;
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
        self.nodes[old_head as usize].prev = i;
        self.clock = self.clock.wrapping_add(1);
        let node = &mut self.nodes[i as usize];
        node.prev = NIL;
        node.next = old_head;
        node.stamp = self.clock;
        self.head = i;
    }

    /// Replaces the contents of slot `i` with `node` and moves it to the
    /// head; returns the old contents (its links are meaningless).
    pub(crate) fn replace_in_place(&mut self, i: u32, node: Node<K, V>) -> Node<K, V> {
        self.unlink(i);
        let old = std::mem::replace(&mut self.nodes[i as usize], node);
        self.link_front(i);
        old
    }

    /// Removes slot `i`. The last slot moves into `i` to keep the slab
    /// dense; returns the removed node and, when a node moved, its old slot
    /// (now `i`).
    pub(crate) fn swap_remove(&mut self, i: u32) -> (Node<K, V>, Option<u32>) {
        self.unlink(i);
        let last = (self.nodes.len() - 1) as u32;
        let node = self.nodes.swap_remove(i as usize);
        if i == last {
            return (node, None);
        }
        // The node that was `last` now sits at `i`: repoint its neighbours.
        let (prev, next) = {
            let moved = &self.nodes[i as usize];
            (moved.prev, moved.next)
        };
        if prev == NIL {
            self.head = i;
        } else {
            self.nodes[prev as usize].next = i;
        }
        if next == NIL {
            self.tail = i;
        } else {
            self.nodes[next as usize].prev = i;
        }
        (node, Some(last))
    }

    /// Removes every node.
    pub(crate) fn drain(&mut self) -> std::vec::Drain<'_, Node<K, V>> {
        self.head = NIL;
        self.tail = NIL;
        self.nodes.drain(..)
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = {
            let node = &self.nodes[i as usize];
            (node.prev, node.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
    }

    fn link_front(&mut self, i: u32) {
        let old_head = self.head;
        self.clock = self.clock.wrapping_add(1);
        {
            let node = &mut self.nodes[i as usize];
            node.prev = NIL;
            node.next = old_head;
            node.stamp = self.clock;
        }
        if old_head == NIL {
            self.tail = i;
        } else {
            self.nodes[old_head as usize].prev = i;
        }
        self.head = i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(list: &List<u32, ()>) -> Vec<u32> {
        let mut out = Vec::new();
        let mut i = list.head();
        while i != NIL {
            out.push(list.node(i).key);
            i = list.next_of(i);
        }
        let mut back = Vec::new();
        let mut i = list.tail();
        while i != NIL {
            back.push(list.node(i).key);
            i = list.prev_of(i);
        }
        back.reverse();
        assert_eq!(out, back, "forward and backward links disagree");
        out
    }

    #[test]
    fn push_move_and_swap_remove_keep_links_consistent() {
        let mut list = List::new();
        let slots: Vec<u32> = (0..5)
            .map(|k| list.push_front(Node::new(k, (), 1, NEVER)))
            .collect();
        assert_eq!(order(&list), [4, 3, 2, 1, 0]);
        list.move_to_front(slots[0]);
        assert_eq!(order(&list), [0, 4, 3, 2, 1]);
        // Remove key 3 (slot 3): the last slot (key 4) moves into slot 3.
        let (removed, moved) = list.swap_remove(slots[3]);
        assert_eq!(removed.key, 3);
        assert_eq!(moved, Some(4));
        assert_eq!(list.node(3).key, 4);
        assert_eq!(order(&list), [0, 4, 2, 1]);
        // Remove the last slot itself: nothing moves.
        let (removed, moved) = list.swap_remove(3);
        assert_eq!((removed.key, moved), (4, None));
        assert_eq!(order(&list), [0, 2, 1]);
        let old = list.replace_in_place(list.tail(), Node::new(9, (), 1, NEVER));
        assert_eq!(old.key, 1);
        assert_eq!(order(&list), [9, 0, 2]);
        assert_eq!(list.drain().count(), 3);
        assert_eq!(order(&list), Vec::<u32>::new());
    }
}
