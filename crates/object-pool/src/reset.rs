//! The `Reset` trait: clear an object for its next user, keep its capacity.

use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;

/// Brings an object back to its empty state while keeping what made it
/// expensive (its allocation). Pass `Reset::reset` to
/// [`ObjectPoolBuilder::reset`](crate::ObjectPoolBuilder::reset):
///
/// ```
/// use perfect21_object_pool::{ObjectPool, Reset};
///
/// let pool = ObjectPool::builder(|| String::with_capacity(1024))
///     .reset(Reset::reset)
///     .build()?;
/// pool.get()?.push_str("dirty");
/// let clean = pool.get()?;
/// assert!(clean.is_empty() && clean.capacity() >= 1024);
/// # Ok::<(), perfect21_object_pool::Error>(())
/// ```
pub trait Reset {
    /// Empties `self`, keeping its capacity.
    fn reset(&mut self);
}

macro_rules! reset_by_clear {
    ($( [$($generics:tt)*] $ty:ty ),* $(,)?) => {$(
        impl<$($generics)*> Reset for $ty {
            #[inline]
            fn reset(&mut self) {
                self.clear();
            }
        }
    )*};
}

reset_by_clear! {
    [T] Vec<T>,
    [] String,
    [T] VecDeque<T>,
    [T] BinaryHeap<T>,
    [K, V, S: BuildHasher] HashMap<K, V, S>,
    [T, S: BuildHasher] HashSet<T, S>,
    [K, V] BTreeMap<K, V>,
    [T] BTreeSet<T>,
}

#[cfg(feature = "bytes")]
reset_by_clear! {
    [] bytes::BytesMut,
}

impl<T: Reset + ?Sized> Reset for Box<T> {
    #[inline]
    fn reset(&mut self) {
        (**self).reset();
    }
}
