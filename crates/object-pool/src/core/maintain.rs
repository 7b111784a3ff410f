//! Maintenance of a thread's slot before a slow operation (exit hook
//! registration, a pending trim's debt), flushes, and `trim` itself.

use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::Core;
use crate::entry::Boxed;
use crate::local::{Owned, Slot, UNREGISTERED};
use crate::shared::Waiter;
use crate::stats::Event;
use crate::sync::lock;
use crate::thread_id;

impl<T: Send + 'static> Core<T> {
    /// Brings the calling thread's slot up to date before a slow-path
    /// operation: registers the exit hook on first use, applies a pending
    /// `trim`. False when the thread is exiting: use the shared path.
    pub(super) fn maintain(&self, slot: Owned<'_, T>) -> bool {
        let epoch = self.trim_epoch.load(Acquire);
        let seen = slot.epoch();
        if seen == UNREGISTERED {
            if !self.register() {
                return false;
            }
            slot.set_epoch(epoch);
            // The cache is empty (the last owner flushed it): no debt.
            slot.trim_owed.store(0, Relaxed);
            return true;
        }
        if seen != epoch {
            slot.set_epoch(epoch);
            // Read after the epoch (Acquire), so it sees what the trim that
            // bumped it left.
            self.pay_trim(slot);
        }
        true
    }

    /// Drops the oldest objects of the calling thread's cache that a `trim`
    /// on another thread counted and left to it. Owner only.
    pub(super) fn pay_trim(&self, slot: Owned<'_, T>) {
        let owed = slot.trim_owed.swap(0, Relaxed);
        if owed == 0 {
            return;
        }
        let trimmed = slot.drain_oldest(owed);
        self.release_budget(trimmed.len());
        self.count(Some(slot), Event::DiscardedTrimmed, trimmed.len() as u64);
        self.drop_discarded(trimmed);
    }

    #[cfg(not(perfect21_loom))]
    pub(super) fn register(&self) -> bool {
        let me: std::sync::Weak<dyn thread_id::ThreadExit> = self.me.clone();
        thread_id::on_exit(me)
    }

    /// Loom models stand in for threads with explicit indices and call
    /// `thread_exit` themselves.
    #[cfg(perfect21_loom)]
    pub(super) fn register(&self) -> bool {
        let _ = &self.me;
        true
    }

    /// Moves a thread's cached objects to the shared stack (their credits
    /// with them) and gives back its spare credits. Owner only.
    pub(super) fn flush(&self, slot: Owned<'_, T>) {
        // Under the lock, so `idle()` never sees the objects in both places.
        let spare = {
            let mut shared = lock(&self.shared);
            shared.extend(slot.drain_oldest(slot.len()));
            slot.take_spares()
        };
        self.release_budget(spare);
    }

    /// `trim(keep)`: flush the caller's cache, then, of what is idle now,
    /// drop the oldest until at most `keep` are idle: from the shared stack
    /// at once, and from other live threads' caches at those threads' next
    /// operation (each owes at most what it held at the call). A trim acts
    /// once: nothing returned after the call is trimmed by it.
    pub(crate) fn trim(&self, keep: usize, local: Option<Owned<'_, T>>) {
        if let Some(slot) = local
            && slot.epoch() != UNREGISTERED
        {
            // An older trim's debt is recounted below with the rest.
            slot.trim_owed.store(0, Relaxed);
            self.flush(slot);
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
    pub(super) fn keep_trim_epoch(&self, local: Option<Owned<'_, T>>) {
        let Some(slot) = local else { return };
        let epoch = self.trim_epoch.load(Acquire);
        slot.set_epoch_if_registered(epoch);
    }
}
