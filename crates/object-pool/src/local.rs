//! A thread's cache in one pool: a few idle objects only that thread
//! touches, so its gets and returns need no atomic read-modify-write.
//!
//! The cache also holds *credits*: places in the pool's idle budget
//! (`max_idle`). Every cached object holds one; an object taken from the
//! cache leaves its credit behind as a *spare*, so returning it costs
//! nothing. A thread gives its spares back the next time its cache runs dry,
//! and all its credits when it exits. The budget counts the shared stack
//! plus every cache's credits, so idle objects never exceed `max_idle`.

use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crate::entry::Boxed;
use crate::stats::Counters;
use crate::sync::{AtomicUsize, UnsafeCell};

/// The most objects a thread cache can hold (`thread_cache` is capped here).
pub(crate) const MAX_THREAD_CACHE: usize = 16;

/// `Cache::epoch` of a slot whose owner has not registered its exit hook
/// (pool epochs start at 1).
pub(crate) const UNREGISTERED: u64 = 0;

/// One thread's state in one pool. Cache-line aligned so two threads' slots
/// never share a line.
#[repr(align(128))]
pub(crate) struct Slot<T> {
    cache: UnsafeCell<Cache<T>>,
    /// Objects in the cache: `items[..len]` are initialised. Written by the
    /// owner only (a relaxed load and store), read by `stats` and `trim`.
    len: AtomicUsize,
    /// Counters written by the owner only.
    pub(crate) counters: Counters,
    /// Objects a `trim` on another thread found idle in this cache and left
    /// for the owner to drop (oldest first) at its next operation: set by
    /// the trimming thread before it bumps the trim epoch, taken by the
    /// owner after it sees the new epoch.
    pub(crate) trim_owed: AtomicUsize,
}

// SAFETY: the `UnsafeCell` is only reached through `Slot::with_cache`, whose
// contract gives one thread at a time exclusive access (the thread that owns
// the slot's index, see `thread_id`), and through `Drop`, which has `&mut`;
// everything else is atomics. What moves between threads through the slot
// is `T` (objects parked by one owner, flushed to the shared stack or taken
// by the next owner), hence `T: Send`.
unsafe impl<T: Send> Sync for Slot<T> {}

/// The owner-only part of a slot.
pub(crate) struct Cache<T> {
    /// Idle objects, oldest first.
    items: [MaybeUninit<Boxed<T>>; MAX_THREAD_CACHE],
    /// Places in the idle budget held: `len` plus the spares.
    credits: usize,
    /// The last `trim` epoch the owner applied; `UNREGISTERED` until the
    /// owner registered its exit hook. The fast paths compare it with the
    /// pool's epoch: one check covers both.
    epoch: u64,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self {
            cache: UnsafeCell::new(Cache {
                items: [const { MaybeUninit::uninit() }; MAX_THREAD_CACHE],
                credits: 0,
                epoch: UNREGISTERED,
            }),
            len: AtomicUsize::new(0),
            counters: Counters::new(),
            trim_owed: AtomicUsize::new(0),
        }
    }
}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        let len = self.len.load(Relaxed);
        self.cache.with_mut(|cache| {
            // SAFETY: `&mut self`: no other access.
            let cache = unsafe { &mut *cache };
            let items: *mut [MaybeUninit<Boxed<T>>] = &mut cache.items[..len];
            // SAFETY: `items[..len]` are initialised and dropped once, here
            // (`MaybeUninit<U>` has `U`'s layout, so the cast slice is
            // those objects). Dropping them as one slice drops every one
            // even if an object's `Drop` panics: no object is leaked.
            unsafe { std::ptr::drop_in_place(items as *mut [Boxed<T>]) };
        });
    }
}

impl<T> std::fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("len", &self.len.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl<T> Slot<T> {
    /// Objects in the cache now (any thread may ask).
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// Runs `f` on the cache. Only `Owned` calls it.
    ///
    /// # Safety
    ///
    /// The calling thread must own this slot's index (so no other thread
    /// calls `with_cache` on it meanwhile), and `f` must not run user code
    /// (factory, hooks, `T`'s `Drop`) or re-enter the pool, so no second
    /// `CacheMut` can exist while this one does.
    #[inline(always)]
    unsafe fn with_cache<R>(&self, f: impl FnOnce(&mut CacheMut<'_, T>) -> R) -> R {
        self.cache.with_mut(|cache| {
            // SAFETY: exclusive per the function's contract.
            let cache = unsafe { &mut *cache };
            f(&mut CacheMut {
                len: self.len.load(Relaxed),
                cache,
                len_cell: &self.len,
            })
        })
    }
}

/// The calling thread's own slot: the proof that its cache may be used.
///
/// Made only by `Owned::new`, whose caller vouches that the calling thread
/// owns the slot's index for `'a`; it is neither `Send` nor `Sync`, so it
/// never leaves that thread. Every cache operation is a method here that
/// runs to completion without user code (no factory, hook, clock, `T`'s
/// `Drop`: objects only move in and out) and without re-entering the pool,
/// so two of them never overlap: this is the one place that argues the
/// exclusive access `Slot::with_cache` requires.
pub(crate) struct Owned<'a, T> {
    slot: &'a Slot<T>,
    _not_send: PhantomData<*const ()>,
}

// Copies stay on the one thread; each method finishes before the next.
impl<T> Clone for Owned<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Owned<'_, T> {}

impl<T> std::ops::Deref for Owned<'_, T> {
    type Target = Slot<T>;
    #[inline(always)]
    fn deref(&self) -> &Slot<T> {
        self.slot
    }
}

impl<'a, T> Owned<'a, T> {
    /// # Safety
    ///
    /// The calling thread owns `slot`'s index (see `thread_id`) for all of
    /// `'a`.
    #[inline(always)]
    pub(crate) unsafe fn new(slot: &'a Slot<T>) -> Self {
        Self {
            slot,
            _not_send: PhantomData,
        }
    }

    #[inline(always)]
    fn cache<R>(self, f: impl FnOnce(&mut CacheMut<'_, T>) -> R) -> R {
        // SAFETY: `self` proves the calling thread owns the slot (see
        // `new`), and `f` is one of the closures below: each runs no user
        // code and does not re-enter the pool, so no other `CacheMut` of
        // this slot exists while it runs.
        unsafe { self.slot.with_cache(f) }
    }

    /// Takes the newest object; its credit stays as a spare.
    #[inline(always)]
    pub(crate) fn pop(self) -> Option<Boxed<T>> {
        self.cache(|cache| cache.pop())
    }

    /// See `CacheMut::push_with_spare`.
    #[inline(always)]
    pub(crate) fn push_with_spare(self, entry: Boxed<T>) -> Result<(), Boxed<T>> {
        self.cache(|cache| cache.push_with_spare(entry))
    }

    /// See `CacheMut::push` (the caller made room).
    pub(crate) fn push(self, entry: Boxed<T>, adds_credit: bool) {
        self.cache(|cache| cache.push(entry, adds_credit));
    }

    pub(crate) fn add_spare(self) {
        self.cache(|cache| cache.add_spare());
    }

    pub(crate) fn spare(self) -> usize {
        self.cache(|cache| cache.spare())
    }

    pub(crate) fn take_spares(self) -> usize {
        self.cache(|cache| cache.take_spares())
    }

    pub(crate) fn epoch(self) -> u64 {
        self.cache(|cache| cache.epoch())
    }

    pub(crate) fn set_epoch(self, epoch: u64) {
        self.cache(|cache| cache.set_epoch(epoch));
    }

    /// Sets the epoch of a registered slot; false (and nothing set) if the
    /// owner has not registered.
    pub(crate) fn set_epoch_if_registered(self, epoch: u64) -> bool {
        self.cache(|cache| {
            let registered = cache.epoch() != UNREGISTERED;
            if registered {
                cache.set_epoch(epoch);
            }
            registered
        })
    }

    /// Removes the `count` oldest objects with their credits, oldest first.
    pub(crate) fn drain_oldest(self, count: usize) -> Vec<Boxed<T>> {
        self.cache(|cache| cache.drain_oldest(count))
    }

    /// Removes every object idle for `timeout` or longer at `now`, with
    /// their credits.
    pub(crate) fn remove_expired(self, now: Instant, timeout: Duration) -> Vec<Boxed<T>> {
        self.cache(|cache| cache.remove_where(|entry| entry.expired(now, timeout)))
    }
}

/// Exclusive access to a cache; keeps `len` in a local and publishes it on
/// every change.
pub(crate) struct CacheMut<'a, T> {
    cache: &'a mut Cache<T>,
    len: usize,
    len_cell: &'a AtomicUsize,
}

impl<T> CacheMut<'_, T> {
    #[inline(always)]
    fn set_len(&mut self, len: usize) {
        self.len = len;
        self.len_cell.store(len, Relaxed);
    }

    #[inline(always)]
    pub(crate) fn epoch(&self) -> u64 {
        self.cache.epoch
    }

    pub(crate) fn set_epoch(&mut self, epoch: u64) {
        self.cache.epoch = epoch;
    }

    /// Spare credits: places held for objects taken from this cache.
    #[inline(always)]
    pub(crate) fn spare(&self) -> usize {
        self.cache.credits - self.len
    }

    /// One more spare: an object handed out from the shared stack keeps
    /// its budget place with this cache.
    pub(crate) fn add_spare(&mut self) {
        self.cache.credits += 1;
    }

    /// Takes the newest object; its credit stays as a spare.
    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<Boxed<T>> {
        let len = self.len.checked_sub(1)?;
        // SAFETY: `items[..self.len]` are initialised; `len` is the last of
        // them, and lowering `len` below it means it is read only once.
        let entry = unsafe { self.cache.items[len].assume_init_read() };
        self.set_len(len);
        Some(entry)
    }

    /// Adds an object using a spare credit; gives it back when there is no
    /// spare. A spare always means room: credits never exceed the cache's
    /// capacity (a cache only takes a new credit for an object it has room
    /// for, and a refill takes at most half its capacity plus one).
    #[inline(always)]
    pub(crate) fn push_with_spare(&mut self, entry: Boxed<T>) -> Result<(), Boxed<T>> {
        if self.cache.credits > self.len {
            self.write(entry);
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
        debug_assert!(adds_credit || self.cache.credits > self.len);
        if adds_credit {
            self.cache.credits += 1;
        }
        debug_assert!(self.cache.credits <= MAX_THREAD_CACHE);
        self.write(entry);
    }

    #[inline(always)]
    fn write(&mut self, entry: Boxed<T>) {
        // Indexing checks `len < MAX_THREAD_CACHE`: every caller keeps
        // `len < cap ≤ MAX_THREAD_CACHE`, so this never panics.
        self.cache.items[self.len].write(entry);
        self.set_len(self.len + 1);
    }

    /// Removes the `count` oldest objects with their credits, oldest first.
    pub(crate) fn drain_oldest(&mut self, count: usize) -> Vec<Boxed<T>> {
        let count = count.min(self.len);
        let items = &mut self.cache.items[..self.len];
        // SAFETY: `items[..len]` are initialised; the first `count` are read
        // out here and the rest moved down over them (`rotate_left` moves the
        // `MaybeUninit`s, no drop), then `len` drops by `count`, so each
        // object is still owned exactly once.
        let taken = items[..count]
            .iter()
            .map(|item| unsafe { item.assume_init_read() })
            .collect();
        items.rotate_left(count);
        self.cache.credits -= count;
        self.set_len(self.len - count);
        taken
    }

    /// Removes the objects `pick` chooses, with their credits.
    pub(crate) fn remove_where(
        &mut self,
        mut pick: impl FnMut(&Boxed<T>) -> bool,
    ) -> Vec<Boxed<T>> {
        let len = self.len;
        let mut removed = Vec::new();
        let mut kept = 0;
        for i in 0..len {
            // SAFETY: `items[..len]` are initialised; each is read once, then
            // either written back at `kept ≤ i` or moved into `removed`, and
            // `len` becomes `kept`, so each object is owned exactly once.
            let entry = unsafe { self.cache.items[i].assume_init_read() };
            if pick(&entry) {
                removed.push(entry);
            } else {
                self.cache.items[kept].write(entry);
                kept += 1;
            }
        }
        self.cache.credits -= removed.len();
        self.set_len(kept);
        removed
    }

    /// Gives back every spare credit; returns how many.
    pub(crate) fn take_spares(&mut self) -> usize {
        let spare = self.spare();
        self.cache.credits = self.len;
        spare
    }
}
