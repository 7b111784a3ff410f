//! Gets: the thread cache's hit path, a refill from the shared stack,
//! the shared path (capped pools, no caches), expiry on the way, and
//! creating new objects.

use std::time::Instant;

use super::{Attempt, Core};
use crate::Error;
use crate::entry::{Boxed, Entry};
use crate::local::Owned;
use crate::shared::Shared;
use crate::stats::Event;
use crate::sync::{Mutex, lock};

impl<T: Send + 'static> Core<T> {
    /// An object for a get on the thread that owns `local` (`None`: the
    /// shared path): idle if there is one, else new; `Exhausted` for a
    /// capped pool at `max_total`.
    #[inline(always)]
    pub(crate) fn acquire(&self, local: Option<Owned<'_, T>>) -> Result<Boxed<T>, Error> {
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
    pub(crate) fn acquire_idle(&self, local: Option<Owned<'_, T>>) -> Option<Boxed<T>> {
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
    pub(super) fn pop_local(&self, slot: Owned<'_, T>) -> Option<Boxed<T>> {
        let entry = slot.pop()?;
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
    pub(super) fn check_local_hit(&self, slot: Owned<'_, T>, entry: Boxed<T>) -> Option<Boxed<T>> {
        let (Some(timeout), Some(now)) = (self.cfg.idle_timeout, self.now_for_get()) else {
            self.count(Some(slot), Event::Reused, 1);
            return Some(entry);
        };
        let mut expired = slot.remove_expired(now, timeout);
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
    pub(super) fn refill_local(&self, slot: Owned<'_, T>) -> Option<Boxed<T>> {
        if !self.maintain(slot) {
            return self.attempt_idle_shared();
        }
        let spare = slot.take_spares();
        self.release_budget(spare);
        if let Some(entry) = slot.pop() {
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
                    // `moved ≤ batch ≤ thread_cache / 2` keeps the cache
                    // within its capacity.
                    Some(_) => slot.push(entry, true),
                }
            }
            if taken.is_some() {
                // The caller's object keeps its place as this cache's spare.
                slot.add_spare();
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
    pub(super) fn attempt_idle_shared(&self) -> Option<Boxed<T>> {
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
    pub(crate) fn create(&self, slot: Option<Owned<'_, T>>, reserved: bool) -> Boxed<T> {
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
}
