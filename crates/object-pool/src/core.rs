//! The pool itself: thread caches in front of a shared stack, the idle
//! budget that bounds them together, and the counters.
//!
//! Paths, fastest first:
//! * **cache hit / cache return** — the calling thread's own slot, no atomic
//!   read-modify-write, no lock;
//! * **cache miss / overflow** — one lock of the shared stack, moving half a
//!   cache's worth of objects at once;
//! * **shared path** — capped pools (so a waiting get sees every idle
//!   object), pools with `thread_cache(0)`, and threads being torn down.
//!
//! Where each part lives: this file holds the state and what every path
//! shares (finding the calling thread's slot, counting, the idle budget);
//! `get.rs` the gets, `release.rs` the returns (and the guards around user
//! code), `maintain.rs` slot maintenance, flushes and `trim`, `snapshot.rs`
//! `stats()` and `idle()`.
//!
//! Invariant (checked by the loom models): `budget` = objects in the shared
//! stack + credits held by thread caches, and `budget ≤ max_idle`; every
//! idle object holds a place in it, so idle objects never exceed `max_idle`.

use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::{Arc, Weak};

use crate::config::Config;
use crate::entry::{Boxed, Entry};
use crate::local::{Owned, Slot, UNREGISTERED};
use crate::shared::Shared;
use crate::slots::SlotTable;
use crate::stats::{Counters, Event};
use crate::sync::{AtomicU64, AtomicUsize, Mutex};
use crate::thread_id::{self, ThreadExit};

mod get;
mod maintain;
mod release;
mod snapshot;

/// Keeps a hot shared field on its own cache line.
#[repr(align(128))]
#[derive(Debug)]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Why the pool dropped an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Discard {
    OverMaxIdle,
    Invalid,
}

impl Discard {
    fn event(self) -> Event {
        match self {
            Discard::OverMaxIdle => Event::DiscardedFull,
            Discard::Invalid => Event::DiscardedInvalid,
        }
    }
}

/// What one look at the shared stack found.
pub(crate) enum Attempt<T> {
    /// An idle object.
    Taken(Boxed<T>),
    /// Nothing idle, and a place to create one (reserved in `live` when the
    /// pool is capped).
    Create,
    /// Nothing idle and `max_total` objects alive.
    Full,
}

pub(crate) struct Core<T> {
    pub(crate) cfg: Config<T>,
    /// Places taken in the idle budget (see the module docs).
    budget: Padded<AtomicUsize>,
    /// Bumped by `trim`; a thread cache that has not seen the latest value
    /// applies what the trim asked of it before its next operation.
    trim_epoch: AtomicU64,
    /// What a thread's one-entry slot cache is keyed by: a fresh
    /// `thread_id::next_key()` at creation and at every `trim`, so a `trim`
    /// sends every thread through `local_slow` (and its maintenance) once.
    /// Every key this pool ever holds was handed out to it alone.
    key: AtomicU64,
    shared: Padded<Mutex<Shared<T>>>,
    /// Counters of operations that did not run on a thread's own slot.
    counters: Padded<Counters>,
    slots: SlotTable<Slot<T>>,
    /// This core, for the thread-exit hooks.
    me: Weak<Core<T>>,
}

impl<T> std::fmt::Debug for Core<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("cfg", &self.cfg)
            .field("budget", &self.budget.load(Relaxed))
            .field("slots", &self.slots)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Core<T> {
    /// A core holding `prefill` fresh objects (the builder checked
    /// `prefill ≤ max_idle` and `≤ max_total`).
    pub(crate) fn new(cfg: Config<T>, prefill: usize) -> Arc<Self> {
        let mut shared = Shared::new();
        for _ in 0..prefill {
            let mut entry = Entry::boxed((cfg.factory)());
            // Prefilled objects are idle from now: they expire like others.
            if cfg.idle_timeout.is_some() {
                entry.idle_since = Some(cfg.clock.now());
            }
            shared.push(entry);
        }
        shared.live = prefill;
        let counters = Counters::new();
        if cfg.stats {
            counters.add(Event::Created, prefill as u64);
        }
        let key = thread_id::next_key();
        Arc::new_cyclic(|me| Self {
            cfg,
            budget: Padded(AtomicUsize::new(prefill)),
            trim_epoch: AtomicU64::new(1),
            shared: Padded(Mutex::new(shared)),
            counters: Padded(counters),
            slots: SlotTable::new(),
            me: me.clone(),
            key: AtomicU64::new(key),
        })
    }
}

impl<T: Send + 'static> ThreadExit for Core<T> {
    fn thread_exit(&self, index: usize) {
        if let Some(slot) = self.slots.get(index) {
            // SAFETY: runs on the exiting thread, which still owns `index`
            // (it is released after the exit hooks).
            let slot = unsafe { Owned::new(slot) };
            slot.set_epoch(UNREGISTERED);
            // What a trim left for this thread goes now, the rest to the
            // shared stack; the index's next owner starts with no debt.
            self.pay_trim(slot);
            self.flush(slot);
        }
    }
}

impl<T: Send + 'static> Core<T> {
    // ----- where an operation runs -------------------------------------

    /// The calling thread's own slot when thread caches are on, up to date
    /// with the latest `trim`. The fast path is the thread's one-entry
    /// cache: its key matches this pool's `key` only if the thread last used
    /// this pool and no `trim` happened since.
    #[inline(always)]
    pub(crate) fn local(&self) -> Option<Owned<'_, T>> {
        if let Some(slot) = thread_id::cached_slot(self.key.load(Relaxed)) {
            // SAFETY: a match means this thread's `LAST_POOL` equals a key
            // of this pool. `LAST_POOL` is 0 (never a key) or a key passed
            // to `cache_slot` together with the slot pointer it returns now,
            // and every key value is handed out by `next_key` at most once,
            // to one pool (a checked 64-bit counter that stops instead of
            // wrapping; `NO_KEY` is never stored). So *this* pool stored the
            // pointer, on this thread: it is this pool's slot for this
            // thread's index, which the thread keeps until it exits (its
            // exit hook clears `LAST_POOL` first). `&self` keeps the pool,
            // hence its slot table, alive, and table slots never move; the
            // thread owns the slot's index for as long as it runs code.
            return Some(unsafe { Owned::new(slot.cast::<Slot<T>>().as_ref()) });
        }
        self.local_slow()
    }

    #[cold]
    #[inline(never)]
    fn local_slow(&self) -> Option<Owned<'_, T>> {
        if self.cfg.thread_cache == 0 {
            return None;
        }
        let key = self.key.load(Acquire);
        // SAFETY: `current()` is the calling thread's own index.
        let slot = unsafe { self.local_at(thread_id::current()?) }?;
        thread_id::cache_slot(key, std::ptr::NonNull::from(&*slot).cast());
        Some(slot)
    }

    /// The slot of thread index `index`, registered and up to date with
    /// the latest `trim`; `None` when the thread is exiting. (The loom
    /// models name their threads' indices directly.)
    ///
    /// # Safety
    ///
    /// `index` is the calling thread's own, for as long as the returned
    /// slot is used.
    pub(crate) unsafe fn local_at(&self, index: usize) -> Option<Owned<'_, T>> {
        // SAFETY: the caller's contract.
        let slot = unsafe { Owned::new(self.slots.get_or_create(index)) };
        self.maintain(slot).then_some(slot)
    }

    #[inline(always)]
    fn count(&self, slot: Option<Owned<'_, T>>, event: Event, n: u64) {
        if !self.cfg.stats {
            return;
        }
        match slot {
            // Only the owner of `slot` ever passes it here.
            Some(slot) => slot.counters.add_owned(event, n),
            None => self.counters.add(event, n),
        }
    }

    /// Takes one place in the idle budget, if there is one left.
    fn reserve_budget(&self) -> bool {
        self.budget
            .fetch_update(Relaxed, Relaxed, |taken| {
                (taken < self.cfg.max_idle).then_some(taken + 1)
            })
            .is_ok()
    }

    fn release_budget(&self, places: usize) {
        if places > 0 {
            self.budget.fetch_sub(places, Relaxed);
        }
    }
}
