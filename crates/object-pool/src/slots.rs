//! A table of per-thread slots, indexed by the small thread indices of
//! `thread_id`, allocated lazily in buckets that never move.
//!
//! Bucket `b` holds the `2^b` slots for indices `2^b ..= 2^(b+1) - 1`, so a
//! handful of buckets covers every thread a process runs and a slot's
//! address is stable for the table's life: the owner thread can keep using
//! it while other threads install new buckets.

use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::Ordering::{AcqRel, Acquire};

use crate::sync::AtomicPtr;

#[cfg(not(perfect21_loom))]
const BUCKETS: usize = usize::BITS as usize;
/// The loom models use a handful of indices; fewer buckets keep each
/// execution's branch count small.
#[cfg(perfect21_loom)]
const BUCKETS: usize = 4;

/// Lazily allocated slots, one per thread index (indices start at 1).
pub(crate) struct SlotTable<S> {
    buckets: [AtomicPtr<S>; BUCKETS],
    /// The table owns its slots: it is `Send`/`Sync` exactly when they are.
    _owns: PhantomData<Box<S>>,
}

impl<S> std::fmt::Debug for SlotTable<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let allocated = self
            .buckets
            .iter()
            .filter(|b| !b.load(Acquire).is_null())
            .count();
        f.debug_struct("SlotTable")
            .field("buckets", &allocated)
            .finish()
    }
}

/// `(bucket, offset)` of a thread index (≥ 1).
#[inline(always)]
fn locate(index: usize) -> (usize, usize) {
    let bucket = (usize::BITS - 1 - index.leading_zeros()) as usize;
    (bucket, index - (1 << bucket))
}

impl<S: Default> SlotTable<S> {
    pub(crate) fn new() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            _owns: PhantomData,
        }
    }

    /// The slot of `index` (≥ 1), if its bucket exists.
    #[inline(always)]
    pub(crate) fn get(&self, index: usize) -> Option<&S> {
        let (bucket, offset) = locate(index);
        let base = self.buckets[bucket].load(Acquire);
        if base.is_null() {
            return None;
        }
        // SAFETY: a non-null bucket pointer was published (Release, in
        // `get_or_create`) from a `Box<[S]>` of exactly `2^bucket` initialised
        // slots, and `offset < 2^bucket` by `locate`. Buckets are freed only in
        // `Drop`, which has `&mut self`, so the slot outlives this borrow.
        Some(unsafe { &*base.add(offset) })
    }

    /// The slot of `index` (≥ 1), allocating its bucket if needed.
    pub(crate) fn get_or_create(&self, index: usize) -> &S {
        if let Some(slot) = self.get(index) {
            return slot;
        }
        let (bucket, offset) = locate(index);
        let fresh: Box<[S]> = (0..1usize << bucket).map(|_| S::default()).collect();
        let fresh = Box::into_raw(fresh).cast::<S>();
        let base =
            match self.buckets[bucket].compare_exchange(ptr::null_mut(), fresh, AcqRel, Acquire) {
                Ok(_) => fresh,
                Err(installed) => {
                    // SAFETY: `fresh` came from `Box::into_raw` of a slice of
                    // `2^bucket` slots just above and was never published.
                    drop(unsafe {
                        Box::from_raw(ptr::slice_from_raw_parts_mut(fresh, 1 << bucket))
                    });
                    installed
                }
            };
        // SAFETY: as in `get`: `base` is a published bucket of `2^bucket`
        // slots, `offset` is in range, and buckets live until `Drop`.
        unsafe { &*base.add(offset) }
    }

    /// Every allocated slot.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &S> + '_ {
        self.buckets.iter().enumerate().flat_map(|(bucket, base)| {
            let base = base.load(Acquire);
            let len = if base.is_null() { 0 } else { 1usize << bucket };
            // SAFETY: as in `get`: a non-null `base` is a published bucket of
            // `2^bucket` initialised slots that lives until `Drop`.
            (0..len).map(move |offset| unsafe { &*base.add(offset) })
        })
    }
}

impl<S> Drop for SlotTable<S> {
    fn drop(&mut self) {
        // Taken back first, dropped together: a slot whose drop panics (an
        // object's `Drop`) does not keep the other buckets from dropping.
        let buckets: Vec<Box<[S]>> = self
            .buckets
            .iter()
            .enumerate()
            .filter_map(|(bucket, base)| {
                let base = base.load(Acquire);
                // SAFETY: a non-null `base` was published from
                // `Box::into_raw` of a slice of `2^bucket` slots and is
                // taken back only here, once, with exclusive access.
                (!base.is_null()).then(|| unsafe {
                    Box::from_raw(ptr::slice_from_raw_parts_mut(base, 1 << bucket))
                })
            })
            .collect();
        drop(buckets);
    }
}

#[cfg(all(test, not(perfect21_loom)))]
mod tests {
    use super::*;

    #[test]
    fn indices_map_to_distinct_stable_slots() {
        let table: SlotTable<std::sync::atomic::AtomicUsize> = SlotTable::new();
        assert!(table.get(1).is_none());
        for index in 1..=70 {
            table
                .get_or_create(index)
                .store(index, std::sync::atomic::Ordering::Relaxed);
        }
        for index in 1..=70 {
            let slot = table.get(index).expect("created above");
            assert_eq!(slot.load(std::sync::atomic::Ordering::Relaxed), index);
            assert!(std::ptr::eq(slot, table.get_or_create(index)));
        }
        // Buckets 0..=6 hold 1 + 2 + … + 64 = 127 slots.
        assert_eq!(table.iter().count(), 127);
    }

    #[test]
    fn locate_covers_each_bucket() {
        assert_eq!(locate(1), (0, 0));
        assert_eq!(locate(2), (1, 0));
        assert_eq!(locate(3), (1, 1));
        assert_eq!(locate(4), (2, 0));
        assert_eq!(locate(7), (2, 3));
        assert_eq!(locate(usize::MAX), (BUCKETS - 1, (1 << (BUCKETS - 1)) - 1));
    }
}
