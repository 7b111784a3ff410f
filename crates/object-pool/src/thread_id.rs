//! Small per-thread indices, reused after a thread exits, and the hooks that
//! run when it does.
//!
//! Every thread that touches a pool gets the lowest free index (1, 2, 3 …);
//! a pool keeps one cache slot per index. The index is released only after
//! the thread's exit hooks have run, and those hooks flush the thread's
//! cache in every pool it used, so when an index passes to a new thread the
//! slot it inherits is empty and nothing else touches it: one live thread
//! per index is what makes a slot's cache owner-only.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Mutex, PoisonError, Weak};

/// Something that must hear when a thread that used it exits.
pub(crate) trait ThreadExit: Send + Sync {
    /// The thread that owns `index` is exiting; runs on that thread.
    fn thread_exit(&self, index: usize);
}

/// Indices handed out: the next fresh one and the released ones, lowest first.
struct Registry {
    next: usize,
    free: BinaryHeap<Reverse<usize>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next: 1,
    free: BinaryHeap::new(),
});

fn acquire_index() -> usize {
    let mut registry = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
    match registry.free.pop() {
        Some(Reverse(index)) => index,
        None => {
            let index = registry.next;
            registry.next += 1;
            index
        }
    }
}

fn release_index(index: usize) {
    let mut registry = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
    registry.free.push(Reverse(index));
}

/// The thread's index, and what to tell when it exits.
struct ThreadState {
    index: usize,
    exits: RefCell<Vec<Weak<dyn ThreadExit>>>,
}

impl Drop for ThreadState {
    fn drop(&mut self) {
        // From here on, pool operations on this thread take the shared path.
        INDEX.with(|index| index.set(0));
        LAST_POOL.with(|pool| pool.set(0));
        let exits = std::mem::take(self.exits.get_mut());
        for exit in exits {
            if let Some(pool) = exit.upgrade() {
                pool.thread_exit(self.index);
            }
        }
        release_index(self.index);
    }
}

thread_local! {
    /// The fast path's copy of the index: 0 until assigned and after exit.
    static INDEX: Cell<usize> = const { Cell::new(0) };
    /// The key of the pool this thread used last (0: none) and this thread's
    /// slot in it, so the fast path skips the slot-table lookup. Keys are
    /// unique for the life of the process (`next_key`).
    static LAST_POOL: Cell<u64> = const { Cell::new(0) };
    static LAST_SLOT: Cell<NonNull<()>> = const { Cell::new(NonNull::dangling()) };
    static STATE: ThreadState = {
        let index = acquire_index();
        INDEX.with(|cell| cell.set(index));
        ThreadState { index, exits: RefCell::new(Vec::new()) }
    };
}

/// The calling thread's index, or `None` while its thread-local storage is
/// being torn down (then callers use the shared path).
#[inline(always)]
pub(crate) fn current() -> Option<usize> {
    let index = INDEX.with(Cell::get);
    if index != 0 {
        Some(index)
    } else {
        current_slow()
    }
}

#[cold]
fn current_slow() -> Option<usize> {
    STATE.try_with(|state| state.index).ok()
}

/// The key no pool's slot is ever cached under: pools given it (once the
/// counter has run out) always take the slow path.
pub(crate) const NO_KEY: u64 = u64::MAX;

/// A fresh key for a pool's per-thread slot cache.
///
/// Every value in `1..NO_KEY` is handed out at most once in the life of the
/// process, to one pool: one 64-bit counter, advanced by a checked
/// increment that stops at `NO_KEY` instead of wrapping. After that every
/// call returns `NO_KEY`, which `cache_slot` refuses to store, so those
/// pools never use the fast path. Uniqueness therefore holds whatever the
/// number of pools and trims, without any assumption on how long it takes
/// to create them.
pub(crate) fn next_key() -> u64 {
    #[cfg(test)]
    if let Some(key) = test_keys::next() {
        return key;
    }
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_update(Relaxed, Relaxed, |key| (key != NO_KEY).then(|| key + 1))
        .unwrap_or(NO_KEY)
}

/// This thread's slot in the pool keyed `pool`, if it is the pool it used
/// last. `LAST_POOL` only ever holds 0 (no pool; never a key) or a key that
/// `next_key` handed out once, to the pool whose slot is in `LAST_SLOT`.
#[inline(always)]
pub(crate) fn cached_slot(pool: u64) -> Option<NonNull<()>> {
    if LAST_POOL.with(Cell::get) == pool {
        Some(LAST_SLOT.with(Cell::get))
    } else {
        None
    }
}

/// Remembers `slot` as this thread's slot in the pool keyed `pool`. Only
/// once the thread has its index (so its exit hook will forget it again).
pub(crate) fn cache_slot(pool: u64, slot: NonNull<()>) {
    if pool != NO_KEY && INDEX.with(Cell::get) != 0 {
        LAST_SLOT.with(|cell| cell.set(slot));
        LAST_POOL.with(|cell| cell.set(pool));
    }
}

/// Asks for `exit.thread_exit(index)` when the calling thread exits. Returns
/// false (and registers nothing) when the thread is already exiting.
// The loom models run thread exits by hand.
#[cfg_attr(perfect21_loom, allow(dead_code))]
pub(crate) fn on_exit(exit: Weak<dyn ThreadExit>) -> bool {
    STATE
        .try_with(|state| {
            let mut exits = state.exits.borrow_mut();
            // Forget pools that are gone so the list stays short.
            exits.retain(|weak| weak.strong_count() > 0);
            exits.push(exit);
        })
        .is_ok()
}

/// Tests start the key counter anywhere (on their own thread only, so the
/// process-wide counter and other tests are unaffected).
#[cfg(test)]
pub(crate) mod test_keys {
    use std::cell::Cell;

    use super::NO_KEY;

    thread_local! {
        static NEXT: Cell<Option<u64>> = const { Cell::new(None) };
    }

    /// The next keys on this thread count up from `next`, stopping at
    /// `NO_KEY` like the real counter.
    #[cfg_attr(perfect21_loom, allow(dead_code))] // used by `unsafe_tests`
    pub(crate) fn start_at(next: u64) {
        NEXT.with(|cell| cell.set(Some(next)));
    }

    pub(super) fn next() -> Option<u64> {
        NEXT.with(|cell| {
            let key = cell.get()?;
            if key != NO_KEY {
                cell.set(Some(key + 1));
            }
            Some(key)
        })
    }
}
