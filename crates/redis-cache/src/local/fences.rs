//! Fill fences: what keeps a reply that left Redis *before* a write from
//! landing in L1 *after* that write's invalidation.
//!
//! A read that may fill L1 takes a [`Fence`] before it sends its command;
//! an invalidation voids the fences of its key (one of [`STRIPES`] epochs,
//! picked by the key's hash) or of every key (the generation); a fill
//! whose fence was voided is discarded. The generation is odd while the
//! invalidation stream is down: no fence is handed out, so nothing fills
//! L1 that no invalidation would reach.
//!
//! A fill checks its fence, inserts, and (after a `SeqCst` fence) checks
//! again; an invalidation voids, then (after a `SeqCst` fence) evicts. The
//! two fences order the insert and the void: either the fill's second
//! check sees the void (and the fill evicts its own insert) or the void's
//! fence comes after the fill's, so the eviction that follows it sees, and
//! removes, the insert. Between the insert and that eviction a reader may
//! be served the value the invalidation is about to remove — the same
//! window every L1 has before its invalidation arrives. Two keys that
//! share a stripe cost each other a fill now and then, never a stale
//! value.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

/// Epochs per tier: a write voids the in-flight fills of 1/`STRIPES` of
/// the keys.
const STRIPES: usize = 1024;

/// Taken by a read before it asks Redis; see the module docs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fence {
    stripe: usize,
    epoch: u64,
    generation: u64,
}

pub(crate) struct Fences {
    epochs: Box<[AtomicU64]>,
    /// Bumped by `void_all`; odd while the invalidation stream is down.
    generation: AtomicU64,
}

impl Fences {
    /// Down until [`listening`](Self::listening).
    pub(crate) fn new() -> Self {
        Self {
            epochs: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            generation: AtomicU64::new(1),
        }
    }

    /// A fence for a read of `key`; `None` while the stream is down.
    pub(crate) fn take(&self, key: &str) -> Option<Fence> {
        let generation = self.generation.load(SeqCst);
        if generation % 2 == 1 {
            return None;
        }
        let stripe = stripe_of(key);
        Some(Fence {
            stripe,
            epoch: self.epochs[stripe].load(SeqCst),
            generation,
        })
    }

    /// Whether no invalidation crossed `fence` since it was taken.
    pub(crate) fn holds(&self, fence: &Fence) -> bool {
        self.epochs[fence.stripe].load(SeqCst) == fence.epoch
            && self.generation.load(SeqCst) == fence.generation
    }

    /// Voids the fences of reads of `key` in flight.
    pub(crate) fn void_key(&self, key: &str) {
        self.epochs[stripe_of(key)].fetch_add(1, SeqCst);
    }

    /// Voids every fence in flight.
    pub(crate) fn void_all(&self) {
        self.generation.fetch_add(2, SeqCst);
    }

    /// The stream is up (again): fences are handed out from now on.
    pub(crate) fn listening(&self) {
        let _ = self
            .generation
            .fetch_update(SeqCst, SeqCst, |g| (g % 2 == 1).then_some(g + 1));
    }

    /// The stream is down: every fence in flight is void and no new one is
    /// handed out.
    pub(crate) fn deaf(&self) {
        let _ = self
            .generation
            .fetch_update(SeqCst, SeqCst, |g| (g % 2 == 0).then_some(g + 1));
    }
}

/// FNV-1a over the key, folded onto the stripes.
fn stripe_of(key: &str) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key.as_bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % STRIPES as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listening() -> Fences {
        let fences = Fences::new();
        fences.listening();
        fences
    }

    #[test]
    fn no_fence_while_the_stream_is_down() {
        let fences = Fences::new();
        assert!(fences.take("k").is_none(), "down until listening");
        fences.listening();
        let fence = fences.take("k").unwrap();
        fences.deaf();
        assert!(fences.take("k").is_none());
        assert!(!fences.holds(&fence), "going deaf voids fences in flight");
        fences.listening();
        assert!(
            !fences.holds(&fence),
            "and coming back does not revive them"
        );
        assert!(fences.take("k").is_some());
    }

    #[test]
    fn an_invalidation_voids_the_fences_of_its_key_only_or_all() {
        let fences = listening();
        let other = (0..)
            .map(|i| format!("o{i}"))
            .find(|k| stripe_of(k) != stripe_of("k"))
            .unwrap();
        let (k, o) = (fences.take("k").unwrap(), fences.take(&other).unwrap());
        fences.void_key("k");
        assert!(!fences.holds(&k));
        assert!(fences.holds(&o), "another stripe's fence holds");
        fences.void_all();
        assert!(!fences.holds(&o));
        assert!(fences.take("k").is_some(), "void_all keeps the stream up");
    }

    #[test]
    fn listening_and_deaf_are_idempotent() {
        let fences = Fences::new();
        fences.listening();
        fences.listening();
        let fence = fences.take("k").unwrap();
        assert!(fences.holds(&fence), "a second listening voids nothing");
        fences.deaf();
        fences.deaf();
        fences.listening();
        assert!(fences.take("k").is_some());
    }
}
