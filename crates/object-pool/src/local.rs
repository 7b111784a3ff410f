//! A thread's cache in one pool: a few idle objects only that thread
//! touches, so its gets and returns need no atomic read-modify-write.
//!
//! The cache also holds *credits*: places in the pool's idle budget
//! (`max_idle`). Every cached object holds one; an object taken from the
//! cache leaves its credit behind as a *spare*, so returning it costs
//! nothing. A thread gives its spares back the next time its cache runs dry,
//! and all its credits when it exits. The budget counts the shared stack
//! plus every cache's credits, so idle objects never exceed `max_idle`.

use std::sync::atomic::Ordering::Relaxed;

use crate::entry::Boxed;
use crate::stats::Counters;
use crate::sync::{AtomicUsize, UnsafeCell};

/// The most objects a thread cache can hold (`thread_cache` is capped here).
pub(crate) const MAX_THREAD_CACHE: usize = 16;

/// One thread's state in one pool. Cache-line aligned so two threads' slots
/// never share a line.
#[repr(align(128))]
pub(crate) struct Slot<T> {
    cache: UnsafeCell<Cache<T>>,
    /// Objects in the cache now: written by the owner, read by `stats`.
    pub(crate) idle: AtomicUsize,
    /// Counters written by the owner only.
    pub(crate) counters: Counters,
}

// SAFETY: the `UnsafeCell` is only reached through `Slot::with_cache`, whose
// contract gives one thread at a time exclusive access (the thread that owns
// the slot's index, see `thread_id`); everything else is atomics. What moves
// between threads through the slot is `T` (objects parked by one owner,
// taken by the next or flushed to the shared stack), hence `T: Send`.
unsafe impl<T: Send> Sync for Slot<T> {}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self {
            cache: UnsafeCell::new(Cache::new()),
            idle: AtomicUsize::new(0),
            counters: Counters::new(),
        }
    }
}

impl<T> std::fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("idle", &self.idle.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl<T> Slot<T> {
    /// Runs `f` on the cache.
    ///
    /// # Safety
    ///
    /// The calling thread must own this slot's index (so no other thread
    /// calls `with_cache` on it meanwhile), and `f` must not run user code
    /// (factory, hooks, `T`'s `Drop`) or re-enter the pool, so no second
    /// `&mut Cache` can exist while this one does.
    #[inline(always)]
    pub(crate) unsafe fn with_cache<R>(&self, f: impl FnOnce(&mut Cache<T>) -> R) -> R {
        self.cache.with_mut(|cache| {
            // SAFETY: exclusive per the function's contract.
            let cache = unsafe { &mut *cache };
            let result = f(cache);
            self.idle.store(cache.len, Relaxed);
            result
        })
    }
}

/// The owner-only part of a slot.
pub(crate) struct Cache<T> {
    /// Idle objects, oldest first; `items[..len]` are `Some`.
    items: [Option<Boxed<T>>; MAX_THREAD_CACHE],
    pub(crate) len: usize,
    /// Places in the idle budget held: `len` plus the spares.
    pub(crate) credits: usize,
    /// The owner asked to be told when it exits (see `thread_id::on_exit`).
    pub(crate) registered: bool,
    /// The last `trim` the owner has applied to this cache.
    pub(crate) trim_epoch: u64,
}

impl<T> Cache<T> {
    fn new() -> Self {
        Self {
            items: [const { None }; MAX_THREAD_CACHE],
            len: 0,
            credits: 0,
            registered: false,
            trim_epoch: 0,
        }
    }

    /// Spare credits: places held for objects taken from this cache.
    #[inline(always)]
    pub(crate) fn spare(&self) -> usize {
        self.credits - self.len
    }

    /// Takes the newest object; its credit stays as a spare.
    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<Boxed<T>> {
        let len = self.len.checked_sub(1)?;
        let entry = self.items[len].take();
        self.len = len;
        entry
    }

    /// Adds an object using a spare credit; gives it back when there is no
    /// spare or no room.
    #[inline(always)]
    pub(crate) fn push_with_spare(&mut self, entry: Boxed<T>, cap: usize) -> Result<(), Boxed<T>> {
        if self.len < cap && self.credits > self.len {
            self.items[self.len] = Some(entry);
            self.len += 1;
            Ok(())
        } else {
            Err(entry)
        }
    }

    /// Adds an object the caller has made room for (`len < cap`). With
    /// `adds_credit` the object brings a credit of its own (just reserved
    /// in the budget, or taken over from the shared stack); without, it
    /// uses a spare.
    pub(crate) fn push(&mut self, entry: Boxed<T>, adds_credit: bool) {
        debug_assert!(self.len < MAX_THREAD_CACHE);
        debug_assert!(adds_credit || self.credits > self.len);
        self.items[self.len] = Some(entry);
        self.len += 1;
        if adds_credit {
            self.credits += 1;
        }
    }

    /// Removes the `count` oldest objects with their credits, oldest first.
    pub(crate) fn drain_oldest(&mut self, count: usize) -> impl Iterator<Item = Boxed<T>> + '_ {
        let count = count.min(self.len);
        let taken: Vec<Boxed<T>> = self.items[..count].iter_mut().filter_map(Option::take).collect();
        self.items[..self.len].rotate_left(count);
        self.len -= count;
        self.credits -= count;
        taken.into_iter()
    }

    /// Removes the objects `is_expired` picks, with their credits.
    pub(crate) fn remove_where(&mut self, mut is_expired: impl FnMut(&Boxed<T>) -> bool) -> Vec<Boxed<T>> {
        let mut removed = Vec::new();
        let mut kept = 0;
        for i in 0..self.len {
            match self.items[i].take() {
                Some(entry) if is_expired(&entry) => removed.push(entry),
                Some(entry) => {
                    self.items[kept] = Some(entry);
                    kept += 1;
                }
                None => {}
            }
        }
        self.len = kept;
        self.credits -= removed.len();
        removed
    }

    /// Gives back every spare credit; returns how many.
    pub(crate) fn take_spares(&mut self) -> usize {
        let spare = self.spare();
        self.credits = self.len;
        spare
    }
}
