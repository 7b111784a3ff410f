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
//! Invariant (checked by the loom models): `budget` = objects in the shared
//! stack + credits held by thread caches, and `budget ≤ max_idle`; every
//! idle object holds a place in it, so idle objects never exceed `max_idle`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::{Arc, Weak};
use std::time::Instant;

use crate::Error;
use crate::config::Config;
use crate::entry::{Boxed, Entry};
use crate::local::{Slot, UNREGISTERED};
use crate::shared::{Shared, Waiter};
use crate::slots::SlotTable;
use crate::stats::{Counters, Event, Stats};
use crate::sync::{AtomicU64, AtomicUsize, Mutex, lock};
use crate::thread_id::{self, ThreadExit};

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
            // (it is released after the exit hooks); no user code inside.
            unsafe { slot.with_cache(|cache| cache.set_epoch(UNREGISTERED)) };
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
    pub(crate) fn local(&self) -> Option<&Slot<T>> {
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
            // hence its slot table, alive, and table slots never move.
            return Some(unsafe { slot.cast::<Slot<T>>().as_ref() });
        }
        self.local_slow()
    }

    #[cold]
    #[inline(never)]
    fn local_slow(&self) -> Option<&Slot<T>> {
        if self.cfg.thread_cache == 0 {
            return None;
        }
        let key = self.key.load(Acquire);
        let slot = self.local_at(thread_id::current()?)?;
        thread_id::cache_slot(key, std::ptr::NonNull::from(slot).cast());
        Some(slot)
    }

    /// The slot of thread index `index` — which must be the calling
    /// thread's — registered and up to date with the latest `trim`; `None`
    /// when the thread is exiting. (The loom models name their threads'
    /// indices directly.)
    pub(crate) fn local_at(&self, index: usize) -> Option<&Slot<T>> {
        let slot = self.slots.get_or_create(index);
        self.maintain(slot).then_some(slot)
    }

    #[inline(always)]
    fn count(&self, slot: Option<&Slot<T>>, event: Event, n: u64) {
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

    // ----- get -----------------------------------------------------------

    /// An object for a get on the thread that owns `local` (`None`: the
    /// shared path): idle if there is one, else new; `Exhausted` for a
    /// capped pool at `max_total`.
    #[inline(always)]
    pub(crate) fn acquire(&self, local: Option<&Slot<T>>) -> Result<Boxed<T>, Error> {
        if let Some(slot) = local {
            if let Some(entry) = self.pop_local(slot) {
                return Ok(entry);
            }
            if let Some(entry) = self.refill_local(slot) {
                return Ok(entry);
            }
            return Ok(self.create(Some(slot), false));
        }
        match self.attempt_shared() {
            Attempt::Taken(entry) => Ok(entry),
            Attempt::Create => Ok(self.create(None, self.cfg.max_total.is_some())),
            Attempt::Full => {
                self.count(None, Event::Exhausted, 1);
                Err(self.exhausted())
            }
        }
    }

    /// An idle object only: never creates, never waits.
    pub(crate) fn acquire_idle(&self, local: Option<&Slot<T>>) -> Option<Boxed<T>> {
        match local {
            Some(slot) => self.pop_local(slot).or_else(|| self.refill_local(slot)),
            None => self.attempt_idle_shared(),
        }
    }

    pub(crate) fn exhausted(&self) -> Error {
        Error::Exhausted {
            max_total: self.cfg.max_total.unwrap_or(usize::MAX),
        }
    }

    /// The cache-hit fast path.
    #[inline(always)]
    fn pop_local(&self, slot: &Slot<T>) -> Option<Boxed<T>> {
        // SAFETY: `slot` is the calling thread's own (from `local()`), and the
        // closure runs no user code.
        let entry = unsafe { slot.with_cache(|cache| cache.pop()) }?;
        if self.cfg.idle_timeout.is_some() {
            return self.check_local_hit(slot, entry);
        }
        self.count(Some(slot), Event::Reused, 1);
        Some(entry)
    }

    /// With `idle_timeout`: drops every expired object in the cache (the
    /// cache is not ordered by age: a refill brings older objects in), and
    /// the hit itself if it expired (then reports a miss).
    #[cold]
    #[inline(never)]
    fn check_local_hit(&self, slot: &Slot<T>, entry: Boxed<T>) -> Option<Boxed<T>> {
        let (Some(timeout), Some(now)) = (self.cfg.idle_timeout, self.now_for_get()) else {
            self.count(Some(slot), Event::Reused, 1);
            return Some(entry);
        };
        // SAFETY: own slot, no user code inside.
        let mut expired =
            unsafe { slot.with_cache(|cache| cache.remove_where(|e| e.expired(now, timeout))) };
        self.release_budget(expired.len());
        let hit = if entry.expired(now, timeout) {
            expired.push(entry); // its credit is a spare now, released on refill
            None
        } else {
            self.count(Some(slot), Event::Reused, 1);
            Some(entry)
        };
        self.count(Some(slot), Event::DiscardedExpired, expired.len() as u64);
        self.drop_discarded(expired);
        hit
    }

    /// A cache miss: give back the spares, take a batch from the shared
    /// stack (one for the caller, the rest into the cache).
    #[cold]
    #[inline(never)]
    fn refill_local(&self, slot: &Slot<T>) -> Option<Boxed<T>> {
        if !self.maintain(slot) {
            return self.attempt_idle_shared();
        }
        // SAFETY: own slot, no user code inside.
        let spare = unsafe { slot.with_cache(|cache| cache.take_spares()) };
        self.release_budget(spare);
        if let Some(entry) = unsafe {
            // SAFETY: own slot, no user code inside.
            slot.with_cache(|cache| cache.pop())
        } {
            // Maintenance may have left objects (it only flushes on a trim).
            self.count(Some(slot), Event::Reused, 1);
            return Some(entry);
        }
        let batch = (self.cfg.thread_cache / 2).max(1);
        let now = self.now_for_get();
        let mut expired = Vec::new();
        let mut taken: Option<Boxed<T>> = None;
        {
            let mut shared = lock(&self.shared);
            if let (Some(now), Some(timeout)) = (now, self.cfg.idle_timeout) {
                shared.expire(now, timeout, &mut expired);
            }
            let mut moved = 0;
            while moved < batch {
                let Some(entry) = shared.stack.pop_back() else {
                    break;
                };
                if let (Some(now), Some(timeout)) = (now, self.cfg.idle_timeout)
                    && entry.expired(now, timeout)
                {
                    expired.push(entry);
                    continue;
                }
                moved += 1;
                match taken {
                    None => taken = Some(entry),
                    // SAFETY: own slot, no user code inside; `moved ≤ batch ≤
                    // thread_cache / 2` keeps the cache within its capacity.
                    Some(_) => unsafe { slot.with_cache(|cache| cache.push(entry, true)) },
                }
            }
            if taken.is_some() {
                // The caller's object keeps its place as this cache's spare.
                // SAFETY: own slot, no user code inside.
                unsafe { slot.with_cache(|cache| cache.add_spare()) };
            }
        }
        self.release_budget(expired.len());
        self.count(Some(slot), Event::DiscardedExpired, expired.len() as u64);
        if taken.is_some() {
            self.count(Some(slot), Event::Reused, 1);
        }
        self.drop_discarded(expired);
        taken
    }

    /// The shared path of a get: an idle object, or leave to create one.
    #[inline(never)]
    pub(crate) fn attempt_shared(&self) -> Attempt<T> {
        let mut expired = Vec::new();
        let now = self.now_for_get();
        let attempt = {
            let mut shared = lock(&self.shared);
            self.attempt_locked(&mut shared, now, &mut expired)
        };
        self.finish_expired(expired);
        attempt
    }

    /// An idle object from the shared stack, or none (never creates).
    fn attempt_idle_shared(&self) -> Option<Boxed<T>> {
        match self.attempt_shared() {
            Attempt::Taken(entry) => Some(entry),
            Attempt::Create => {
                // Give back the place `attempt_shared` reserved.
                self.unreserve_live();
                None
            }
            Attempt::Full => None,
        }
    }

    /// `attempt_shared` under a lock the caller holds (the waiting gets
    /// queue themselves under the same lock).
    /// `now` is the caller's `now_for_get()`, read before it locked: no
    /// user code runs under the lock.
    pub(crate) fn attempt_locked(
        &self,
        shared: &mut Shared<T>,
        now: Option<Instant>,
        expired: &mut Vec<Boxed<T>>,
    ) -> Attempt<T> {
        let expired_before = expired.len();
        if let (Some(now), Some(timeout)) = (now, self.cfg.idle_timeout) {
            shared.expire(now, timeout, expired);
        }
        let mut taken = None;
        while let Some(entry) = shared.stack.pop_back() {
            match (now, self.cfg.idle_timeout) {
                (Some(now), Some(timeout)) if entry.expired(now, timeout) => expired.push(entry),
                _ => {
                    taken = Some(entry);
                    break;
                }
            }
        }
        // Every expired object leaves `live` too (capped pools), whether or
        // not an object was found after them.
        let newly_expired = expired.len() - expired_before;
        shared.live -= newly_expired.min(shared.live);
        if let Some(entry) = taken {
            self.release_budget(1);
            self.count(None, Event::Reused, 1);
            return Attempt::Taken(entry);
        }
        match self.cfg.max_total {
            Some(max) if shared.live >= max => Attempt::Full,
            Some(_) => {
                shared.live += 1;
                Attempt::Create
            }
            None => Attempt::Create,
        }
    }

    /// Counts and drops objects `attempt_locked` found expired, after the
    /// lock is released, and gives back their budget places.
    pub(crate) fn finish_expired(&self, expired: Vec<Boxed<T>>) {
        if expired.is_empty() {
            return;
        }
        self.release_budget(expired.len());
        self.count(None, Event::DiscardedExpired, expired.len() as u64);
        self.drop_discarded(expired);
    }

    /// A new object from the factory. With `reserved`, a place in `live` is
    /// held for it and given back if the factory panics.
    #[inline(never)]
    pub(crate) fn create(&self, slot: Option<&Slot<T>>, reserved: bool) -> Boxed<T> {
        struct Unreserve<'a, T: Send + 'static>(&'a Core<T>);
        impl<T: Send + 'static> Drop for Unreserve<'_, T> {
            fn drop(&mut self) {
                self.0.unreserve_live();
            }
        }
        let unreserve = reserved.then_some(Unreserve(self));
        let entry = Entry::boxed((self.cfg.factory)());
        std::mem::forget(unreserve);
        self.count(slot, Event::Created, 1);
        entry
    }

    /// One object fewer alive in a capped pool: wake a waiting get.
    pub(crate) fn unreserve_live(&self) {
        if self.cfg.max_total.is_none() {
            return;
        }
        let waiter = {
            let mut shared = lock(&self.shared);
            shared.live = shared.live.saturating_sub(1);
            shared.notify_one()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }

    pub(crate) fn record_wait(&self, waited: std::time::Duration) {
        self.count(None, Event::Waited, 1);
        self.count(
            None,
            Event::WaitNanos,
            u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX),
        );
    }

    pub(crate) fn record_exhausted(&self) {
        self.count(None, Event::Exhausted, 1);
    }

    pub(crate) fn shared(&self) -> &Mutex<Shared<T>> {
        &self.shared
    }

    // ----- return --------------------------------------------------------

    /// A guard is done with its object: reset, validate, keep or drop it.
    #[inline(always)]
    pub(crate) fn release(&self, mut entry: Boxed<T>, local: Option<&Slot<T>>) {
        // The fast path: a thread cache, no `validate`, no `idle_timeout`.
        if let Some(slot) = local
            && self.cfg.plain_return
        {
            if let Some(reset) = &self.cfg.reset
                && catch_unwind(AssertUnwindSafe(|| reset(&mut entry.value))).is_err()
            {
                let reason = self.hook_panicked("reset");
                return self.discard_returned(entry, reason, local);
            }
            return self.keep_local(slot, entry);
        }
        self.release_general(entry, local);
    }

    /// Every other return: hooks, stamp, then the cache or the shared stack.
    #[inline(never)]
    fn release_general(&self, mut entry: Boxed<T>, local: Option<&Slot<T>>) {
        if let Err(reason) = self.prepare(&mut entry.value) {
            return self.discard_returned(entry, reason, local);
        }
        match self.now() {
            Ok(now) => entry.idle_since = now,
            // Without a time the object could never expire: drop it.
            Err(reason) => return self.discard_returned(entry, reason, local),
        }
        match local {
            Some(slot) => self.keep_local(slot, entry),
            None => self.release_shared(entry),
        }
    }

    /// Puts a clean object in the calling thread's cache.
    #[inline(always)]
    fn keep_local(&self, slot: &Slot<T>, entry: Boxed<T>) {
        // SAFETY: `slot` is the calling thread's own, no user code inside.
        let pushed = unsafe { slot.with_cache(|cache| cache.push_with_spare(entry)) };
        match pushed {
            Ok(()) => self.count(Some(slot), Event::Returned, 1),
            Err(entry) => self.release_local_slow(slot, entry),
        }
    }

    /// Runs the `reset` and `validate` hooks; a panic in either is caught.
    #[inline(always)]
    fn prepare(&self, value: &mut T) -> Result<(), Discard> {
        if let Some(reset) = &self.cfg.reset
            && catch_unwind(AssertUnwindSafe(|| reset(value))).is_err()
        {
            return Err(self.hook_panicked("reset"));
        }
        if let Some(validate) = &self.cfg.validate {
            return match catch_unwind(AssertUnwindSafe(|| validate(value))) {
                Ok(true) => Ok(()),
                Ok(false) => Err(Discard::Invalid),
                Err(_) => Err(self.hook_panicked("validate")),
            };
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn hook_panicked(&self, hook: &'static str) -> Discard {
        tracing::warn!(
            target: "perfect21::object_pool",
            hook,
            "pool hook panicked; the object was dropped"
        );
        self.count(None, Event::HookPanic, 1);
        Discard::Invalid
    }

    /// A return that missed the fast path: registration, a pending trim, a
    /// full cache or no spare credit.
    #[cold]
    #[inline(never)]
    fn release_local_slow(&self, slot: &Slot<T>, entry: Boxed<T>) {
        if !self.maintain(slot) {
            return self.release_shared(entry);
        }
        let cap = self.cfg.thread_cache;
        let mut expired = Vec::new();
        if let (Some(timeout), Some(now)) = (self.cfg.idle_timeout, self.now_for_get()) {
            // SAFETY: own slot, no user code inside.
            expired =
                unsafe { slot.with_cache(|cache| cache.remove_where(|e| e.expired(now, timeout))) };
            self.release_budget(expired.len());
            self.count(Some(slot), Event::DiscardedExpired, expired.len() as u64);
        }
        // A full cache moves its older half to the shared stack, where other
        // threads' gets find it (their credits travel with them).
        self.spill(slot, |len| if len >= cap { cap - cap / 2 } else { 0 });
        // SAFETY: own slot, no user code inside.
        let spare = unsafe { slot.with_cache(|cache| cache.spare()) };
        if spare == 0 && !self.reserve_budget() {
            // The budget is spent. Objects sitting in this cache may be what
            // other threads are missing (a thread that only returns never
            // takes them back): share half of them before dropping this one.
            self.spill(slot, |len| len.div_ceil(2));
            self.drop_discarded(expired);
            return self.discard_returned(entry, Discard::OverMaxIdle, Some(slot));
        }
        // SAFETY: own slot, no user code inside; the spill made room. With
        // no spare, the place reserved above becomes the object's credit.
        unsafe { slot.with_cache(|cache| cache.push(entry, spare == 0)) };
        self.count(Some(slot), Event::Returned, 1);
        self.drop_discarded(expired);
    }

    /// Moves the `count(len)` oldest objects of the calling thread's cache,
    /// with their credits, to the shared stack.
    fn spill(&self, slot: &Slot<T>, count: impl FnOnce(usize) -> usize) {
        // Under the lock, so `idle()` never sees the objects in both places.
        let mut shared = lock(&self.shared);
        // SAFETY: own slot, no user code inside.
        unsafe { slot.with_cache(|cache| shared.extend(cache.drain_oldest(count(cache.len())))) };
    }

    /// The shared path of a return.
    #[inline(never)]
    fn release_shared(&self, entry: Boxed<T>) {
        if !self.reserve_budget() {
            return self.discard_returned(entry, Discard::OverMaxIdle, None);
        }
        let waiter = {
            let mut shared = lock(&self.shared);
            shared.push(entry);
            shared.notify_one()
        };
        self.count(None, Event::Returned, 1);
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }

    /// Drops an object that came back and may not stay.
    #[inline(never)]
    fn discard_returned(&self, entry: Boxed<T>, reason: Discard, slot: Option<&Slot<T>>) {
        self.count(slot, reason.event(), 1);
        self.unreserve_live();
        self.drop_discarded(entry);
    }

    /// Drops objects the pool discarded (already counted, their places
    /// given back): `T`'s `Drop` is user code, and a panic in it is caught
    /// and counted, so it never leaves the pool half-way through.
    fn drop_discarded<D>(&self, discarded: D) {
        if catch_unwind(AssertUnwindSafe(move || drop(discarded))).is_err() {
            self.hook_panicked("drop");
        }
    }

    /// The time for `idle_timeout` (`None` without one). Callers read it
    /// before taking the lock: the clock is user code. A panic in it is
    /// caught and counted.
    fn now(&self) -> Result<Option<Instant>, Discard> {
        if self.cfg.idle_timeout.is_none() {
            return Ok(None);
        }
        match catch_unwind(AssertUnwindSafe(|| self.cfg.clock.now())) {
            Ok(now) => Ok(Some(now)),
            Err(_) => Err(self.hook_panicked("clock")),
        }
    }

    /// `now()` for a get: when the clock panics, the get is served without
    /// an expiry check.
    pub(crate) fn now_for_get(&self) -> Option<Instant> {
        self.now().ok().flatten()
    }

    /// An object leaves the pool for good.
    #[allow(clippy::boxed_local)] // the box is the pool's storage; unboxing is the point
    pub(crate) fn detach(&self, entry: Boxed<T>, local: Option<&Slot<T>>) -> T {
        self.count(local, Event::Detached, 1);
        self.unreserve_live();
        entry.value
    }

    // ----- maintenance ---------------------------------------------------

    /// Brings the calling thread's slot up to date before a slow-path
    /// operation: registers the exit hook on first use, applies a pending
    /// `trim`. False when the thread is exiting: use the shared path.
    fn maintain(&self, slot: &Slot<T>) -> bool {
        let epoch = self.trim_epoch.load(Acquire);
        // SAFETY: own slot, no user code inside.
        let seen = unsafe { slot.with_cache(|cache| cache.epoch()) };
        if seen == UNREGISTERED {
            if !self.register() {
                return false;
            }
            // SAFETY: own slot, no user code inside.
            unsafe { slot.with_cache(|cache| cache.set_epoch(epoch)) };
            // The cache is empty (the last owner flushed it): no debt.
            slot.trim_owed.store(0, Relaxed);
            return true;
        }
        if seen != epoch {
            // SAFETY: own slot, no user code inside.
            unsafe { slot.with_cache(|cache| cache.set_epoch(epoch)) };
            // Read after the epoch (Acquire), so it sees what the trim that
            // bumped it left.
            self.pay_trim(slot);
        }
        true
    }

    /// Drops the oldest objects of the calling thread's cache that a `trim`
    /// on another thread counted and left to it. Owner only.
    fn pay_trim(&self, slot: &Slot<T>) {
        let owed = slot.trim_owed.swap(0, Relaxed);
        if owed == 0 {
            return;
        }
        // SAFETY: own slot (maintenance and the exit hook run on the
        // owner), no user code inside: the objects are dropped below.
        let trimmed = unsafe { slot.with_cache(|cache| cache.drain_oldest(owed)) };
        self.release_budget(trimmed.len());
        self.count(Some(slot), Event::DiscardedTrimmed, trimmed.len() as u64);
        self.drop_discarded(trimmed);
    }

    #[cfg(not(perfect21_loom))]
    fn register(&self) -> bool {
        let me: Weak<dyn ThreadExit> = self.me.clone();
        thread_id::on_exit(me)
    }

    /// Loom models stand in for threads with explicit indices and call
    /// `thread_exit` themselves.
    #[cfg(perfect21_loom)]
    fn register(&self) -> bool {
        let _ = &self.me;
        true
    }

    /// Moves a thread's cached objects to the shared stack (their credits
    /// with them) and gives back its spare credits. Owner only.
    fn flush(&self, slot: &Slot<T>) {
        // SAFETY: called on the slot's owner thread (maintenance, exit hook,
        // own trim); no user code inside.
        // Under the lock, so `idle()` never sees the objects in both places.
        let spare = {
            let mut shared = lock(&self.shared);
            // SAFETY: as above.
            unsafe {
                slot.with_cache(|cache| {
                    shared.extend(cache.drain_oldest(cache.len()));
                    cache.take_spares()
                })
            }
        };
        self.release_budget(spare);
    }

    /// `trim(keep)`: flush the caller's cache, then, of what is idle now,
    /// drop the oldest until at most `keep` are idle: from the shared stack
    /// at once, and from other live threads' caches at those threads' next
    /// operation (each owes at most what it held at the call). A trim acts
    /// once: nothing returned after the call is trimmed by it.
    pub(crate) fn trim(&self, keep: usize, local: Option<&Slot<T>>) {
        if let Some(slot) = local {
            // SAFETY: own slot, no user code inside.
            let registered = unsafe { slot.with_cache(|cache| cache.epoch() != UNREGISTERED) };
            if registered {
                // An older trim's debt is recounted below with the rest.
                slot.trim_owed.store(0, Relaxed);
                self.flush(slot);
            }
        }
        let trimmed: Vec<Boxed<T>> = {
            let mut shared = lock(&self.shared);
            let cached: usize = self.slots.iter().map(Slot::len).sum();
            let excess = (shared.stack.len() + cached).saturating_sub(keep);
            let from_stack = excess.min(shared.stack.len());
            let trimmed: Vec<_> = shared.stack.drain(..from_stack).collect();
            shared.live -= trimmed.len().min(shared.live);
            // The rest sits in other threads' caches: each owes at most
            // what it holds now (an owner only ever drops from its own).
            let mut debt = excess - from_stack;
            for slot in self.slots.iter() {
                if debt == 0 {
                    break;
                }
                let owed = slot.len().min(debt);
                if owed > 0 {
                    slot.trim_owed.fetch_max(owed, Relaxed);
                    debt -= owed;
                }
            }
            trimmed
        };
        // Published by the epoch (Release) the owners read with Acquire; a
        // fresh key sends each thread's next operation through maintenance.
        self.trim_epoch.fetch_add(1, Release);
        self.key.store(thread_id::next_key(), Release);
        self.keep_trim_epoch(local);
        if trimmed.is_empty() {
            return;
        }
        self.release_budget(trimmed.len());
        self.count(None, Event::DiscardedTrimmed, trimmed.len() as u64);
        tracing::debug!(
            target: "perfect21::object_pool",
            trimmed = trimmed.len(),
            keep,
            "trimmed idle objects"
        );
        // Capped pools: places freed in `live`.
        if self.cfg.max_total.is_some() {
            let waiters: Vec<Arc<Waiter>> = {
                let mut shared = lock(&self.shared);
                std::iter::from_fn(|| shared.notify_one()).collect()
            };
            for waiter in waiters {
                waiter.wake();
            }
        }
        self.drop_discarded(trimmed);
    }

    /// The trimming thread's own slot is up to date with its trim.
    fn keep_trim_epoch(&self, local: Option<&Slot<T>>) {
        let Some(slot) = local else { return };
        let epoch = self.trim_epoch.load(Acquire);
        // SAFETY: own slot, no user code inside.
        unsafe {
            slot.with_cache(|cache| {
                if cache.epoch() != UNREGISTERED {
                    cache.set_epoch(epoch);
                }
            })
        };
    }

    // ----- stats ---------------------------------------------------------

    pub(crate) fn stats(&self) -> Stats {
        let mut stats = Stats::default();
        self.counters.sum_into(&mut stats);
        for slot in self.slots.iter() {
            slot.counters.sum_into(&mut stats);
        }
        {
            let shared = lock(&self.shared);
            // Under the lock: see `idle()`.
            let cached: usize = self.slots.iter().map(Slot::len).sum();
            stats.idle = (cached + shared.stack.len()) as u64;
            stats.waiting = shared.waiters.len() as u64;
        }
        let idle = stats.idle;
        let live = stats
            .created
            .saturating_sub(stats.discarded())
            .saturating_sub(stats.detached);
        stats.in_use = if self.cfg.stats {
            live.saturating_sub(idle)
        } else {
            0
        };
        stats
    }

    /// Idle objects now (shared stack and thread caches).
    pub(crate) fn idle(&self) -> usize {
        // Objects move between a cache and the shared stack only under the
        // lock, so counting under it sees each of them once.
        let shared = lock(&self.shared);
        self.slots.iter().map(Slot::len).sum::<usize>() + shared.stack.len()
    }

    /// Places taken in the idle budget (for the loom models and tests).
    #[cfg(test)]
    #[allow(dead_code)] // read by the loom models and the unit tests
    pub(crate) fn budget(&self) -> usize {
        self.budget.load(Relaxed)
    }
}
