//! The random numbers the randomized strategies draw: a thread-local
//! generator by default (no shared cache line between pickers), or one
//! seeded generator shared by all threads, so a single-threaded test or
//! simulation replays exactly.

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn entropy() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(GOLDEN);
    hasher.finish()
}

thread_local! {
    static LOCAL: Cell<u64> = Cell::new(entropy());
}

/// A strategy's random source.
#[derive(Debug)]
pub(crate) enum Rng {
    /// Per-thread state, seeded from the OS's hash randomness.
    ThreadLocal,
    /// One SplitMix64 sequence shared by every thread.
    Seeded(AtomicU64),
}

impl Rng {
    pub(crate) fn seeded(seed: u64) -> Self {
        Self::Seeded(AtomicU64::new(seed))
    }

    #[inline]
    pub(crate) fn next_u64(&self) -> u64 {
        match self {
            Self::ThreadLocal => LOCAL.with(|state| {
                let next = state.get().wrapping_add(GOLDEN);
                state.set(next);
                mix(next)
            }),
            Self::Seeded(state) => mix(state
                .fetch_add(GOLDEN, Ordering::Relaxed)
                .wrapping_add(GOLDEN)),
        }
    }
}

/// Maps 32 random bits onto `0..n` (Lemire's multiply-shift).
#[inline]
pub(crate) fn below(bits: u32, n: usize) -> usize {
    ((u64::from(bits) * n as u64) >> 32) as usize
}
