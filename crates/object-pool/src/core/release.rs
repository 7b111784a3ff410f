//! Returns: the `reset`/`validate` hooks, the thread cache's return
//! path, spills to the shared stack, discards and detaches; and the
//! guards around user code the pool runs (clock, `Drop` of discarded
//! objects).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use super::{Core, Discard};
use crate::entry::Boxed;
use crate::local::Owned;
use crate::stats::Event;
use crate::sync::lock;

impl<T: Send + 'static> Core<T> {
    /// A guard is done with its object: reset, validate, keep or drop it.
    #[inline(always)]
    pub(crate) fn release(&self, mut entry: Boxed<T>, local: Option<Owned<'_, T>>) {
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
    pub(super) fn release_general(&self, mut entry: Boxed<T>, local: Option<Owned<'_, T>>) {
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
    pub(super) fn keep_local(&self, slot: Owned<'_, T>, entry: Boxed<T>) {
        let pushed = slot.push_with_spare(entry);
        match pushed {
            Ok(()) => self.count(Some(slot), Event::Returned, 1),
            Err(entry) => self.release_local_slow(slot, entry),
        }
    }

    /// Runs the `reset` and `validate` hooks; a panic in either is caught.
    #[inline(always)]
    pub(super) fn prepare(&self, value: &mut T) -> Result<(), Discard> {
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
    pub(super) fn hook_panicked(&self, hook: &'static str) -> Discard {
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
    pub(super) fn release_local_slow(&self, slot: Owned<'_, T>, entry: Boxed<T>) {
        if !self.maintain(slot) {
            return self.release_shared(entry);
        }
        let cap = self.cfg.thread_cache;
        let mut expired = Vec::new();
        if let (Some(timeout), Some(now)) = (self.cfg.idle_timeout, self.now_for_get()) {
            expired = slot.remove_expired(now, timeout);
            self.release_budget(expired.len());
            self.count(Some(slot), Event::DiscardedExpired, expired.len() as u64);
        }
        // A full cache moves its older half to the shared stack, where other
        // threads' gets find it (their credits travel with them).
        self.spill(slot, |len| if len >= cap { cap - cap / 2 } else { 0 });
        let spare = slot.spare();
        if spare == 0 && !self.reserve_budget() {
            // The budget is spent. Objects sitting in this cache may be what
            // other threads are missing (a thread that only returns never
            // takes them back): share half of them before dropping this one.
            self.spill(slot, |len| len.div_ceil(2));
            self.drop_discarded(expired);
            return self.discard_returned(entry, Discard::OverMaxIdle, Some(slot));
        }
        // The spill made room. With no spare, the place reserved above
        // becomes the object's credit.
        slot.push(entry, spare == 0);
        self.count(Some(slot), Event::Returned, 1);
        self.drop_discarded(expired);
    }

    /// Moves the `count(len)` oldest objects of the calling thread's cache,
    /// with their credits, to the shared stack.
    pub(super) fn spill(&self, slot: Owned<'_, T>, count: impl FnOnce(usize) -> usize) {
        // Under the lock, so `idle()` never sees the objects in both places.
        let mut shared = lock(&self.shared);
        shared.extend(slot.drain_oldest(count(slot.len())));
    }

    /// The shared path of a return.
    #[inline(never)]
    pub(super) fn release_shared(&self, entry: Boxed<T>) {
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
    pub(super) fn discard_returned(
        &self,
        entry: Boxed<T>,
        reason: Discard,
        slot: Option<Owned<'_, T>>,
    ) {
        self.count(slot, reason.event(), 1);
        self.unreserve_live();
        self.drop_discarded(entry);
    }

    /// Drops objects the pool discarded (already counted, their places
    /// given back): `T`'s `Drop` is user code, and a panic in it is caught
    /// and counted, so it never leaves the pool half-way through.
    pub(super) fn drop_discarded<D>(&self, discarded: D) {
        if catch_unwind(AssertUnwindSafe(move || drop(discarded))).is_err() {
            self.hook_panicked("drop");
        }
    }

    /// The time for `idle_timeout` (`None` without one). Callers read it
    /// before taking the lock: the clock is user code. A panic in it is
    /// caught and counted.
    pub(super) fn now(&self) -> Result<Option<Instant>, Discard> {
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
    pub(crate) fn detach(&self, entry: Boxed<T>, local: Option<Owned<'_, T>>) -> T {
        self.count(local, Event::Detached, 1);
        self.unreserve_live();
        entry.value
    }
}
