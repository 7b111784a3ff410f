//! `stats()` and `idle()`: sums of the counter blocks and the idle
//! objects, counted under the lock so each object is seen once.

use super::Core;
use crate::local::Slot;
use crate::stats::Stats;
use crate::sync::lock;

impl<T: Send + 'static> Core<T> {
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
        self.budget.load(std::sync::atomic::Ordering::Relaxed)
    }
}
