//! How much an entry counts against `max_weight`.

use std::mem::size_of;
use std::sync::Arc;

/// Weighs an entry when it is inserted. The weight is recorded with the
/// entry and subtracted when it leaves, so the cache's total never drifts —
/// even if the weigher would answer differently later (for example after
/// [`get_mut`](crate::LruCache::get_mut) changed the value: re-insert to
/// re-weigh).
///
/// Any `Fn(&K, &V) -> u64` is a weigher:
///
/// ```
/// use std::num::NonZeroUsize;
/// use perfect21_lru::LruCache;
///
/// let mut cache = LruCache::builder()
///     .max_weight(10)
///     .weigher(|_key: &u32, value: &String| value.len() as u64)
///     .build()?;
/// cache.insert(1, "hello".to_string()).ok();
/// assert_eq!(cache.weight(), 5);
/// # Ok::<(), perfect21_lru::Error>(())
/// ```
pub trait Weigher<K, V> {
    /// The weight of `key` → `value`.
    fn weigh(&self, key: &K, value: &V) -> u64;
}

impl<K, V, F> Weigher<K, V> for F
where
    F: Fn(&K, &V) -> u64,
{
    #[inline]
    fn weigh(&self, key: &K, value: &V) -> u64 {
        self(key, value)
    }
}

/// Every entry weighs 1: `max_weight` then acts as a second entry count.
/// The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitWeigher;

impl<K, V> Weigher<K, V> for UnitWeigher {
    #[inline]
    fn weigh(&self, _key: &K, _value: &V) -> u64 {
        1
    }
}

/// Weighs an entry in estimated bytes: the key's and value's inline size,
/// the heap bytes they own ([`HeapSize`]), and [`ENTRY_OVERHEAD`] for the
/// cache's own bookkeeping. Use it with `max_weight` as a memory budget.
///
/// ```
/// use perfect21_lru::{HeapSizeWeigher, LruCache, Weigher};
///
/// let weigher = HeapSizeWeigher;
/// let small = weigher.weigh(&1u64, &String::from("a"));
/// let large = weigher.weigh(&1u64, &"a".repeat(1000));
/// assert_eq!(large - small, 999);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct HeapSizeWeigher;

/// The bytes the cache spends per entry besides the key and value: two
/// `u32` links, a `u32` recency stamp, the recorded weight and deadline in
/// the slab (32 bytes with padding), and the index's slot (a `u32` plus a
/// control byte, at a load factor between 7/16 and 7/8), rounded up.
pub const ENTRY_OVERHEAD: u64 = 44;

impl<K: HeapSize, V: HeapSize> Weigher<K, V> for HeapSizeWeigher {
    #[inline]
    fn weigh(&self, key: &K, value: &V) -> u64 {
        let bytes = size_of::<K>() + size_of::<V>() + key.heap_size() + value.heap_size();
        (bytes as u64).saturating_add(ENTRY_OVERHEAD)
    }
}

/// The bytes a value owns on the heap, beyond its own `size_of`.
///
/// Counts capacity, not length, for growable buffers: that is what the
/// allocator holds. Shared buffers (`Arc`, `bytes::Bytes`) count their
/// whole pointee for every handle, an over-estimate that keeps a memory
/// budget safe.
pub trait HeapSize {
    /// Heap bytes owned by `self`.
    fn heap_size(&self) -> usize;
}

macro_rules! no_heap {
    ($($t:ty),*) => {
        $(impl HeapSize for $t {
            #[inline]
            fn heap_size(&self) -> usize { 0 }
        })*
    };
}

no_heap!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64
);

impl HeapSize for String {
    fn heap_size(&self) -> usize {
        self.capacity()
    }
}

impl HeapSize for Box<str> {
    fn heap_size(&self) -> usize {
        self.len()
    }
}

impl<T: HeapSize> HeapSize for Vec<T> {
    fn heap_size(&self) -> usize {
        self.capacity() * size_of::<T>() + self.iter().map(HeapSize::heap_size).sum::<usize>()
    }
}

impl<T: HeapSize> HeapSize for Box<[T]> {
    fn heap_size(&self) -> usize {
        self.len() * size_of::<T>() + self.iter().map(HeapSize::heap_size).sum::<usize>()
    }
}

impl<T: HeapSize> HeapSize for Box<T> {
    fn heap_size(&self) -> usize {
        size_of::<T>() + (**self).heap_size()
    }
}

impl<T: HeapSize + ?Sized> HeapSize for Arc<T> {
    fn heap_size(&self) -> usize {
        // The pointee and the two reference counts.
        std::mem::size_of_val::<T>(self) + 2 * size_of::<usize>() + (**self).heap_size()
    }
}

impl HeapSize for str {
    fn heap_size(&self) -> usize {
        0
    }
}

impl<T: HeapSize> HeapSize for [T] {
    fn heap_size(&self) -> usize {
        self.iter().map(HeapSize::heap_size).sum()
    }
}

impl<T: HeapSize> HeapSize for Option<T> {
    fn heap_size(&self) -> usize {
        self.as_ref().map_or(0, HeapSize::heap_size)
    }
}

impl<A: HeapSize, B: HeapSize> HeapSize for (A, B) {
    fn heap_size(&self) -> usize {
        self.0.heap_size() + self.1.heap_size()
    }
}

#[cfg(feature = "bytes")]
impl HeapSize for bytes::Bytes {
    fn heap_size(&self) -> usize {
        self.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_sizes_count_owned_buffers() {
        let s = String::with_capacity(40);
        assert_eq!(s.heap_size(), 40);
        let v: Vec<String> = vec![String::with_capacity(10), String::with_capacity(20)];
        assert_eq!(v.heap_size(), 2 * size_of::<String>() + 30);
        let b: Box<[u8]> = vec![0u8; 17].into_boxed_slice();
        assert_eq!(b.heap_size(), 17);
        assert_eq!(Some(String::with_capacity(3)).heap_size(), 3);
        assert_eq!(7u64.heap_size(), 0);
        let a: Arc<str> = Arc::from("hello");
        assert_eq!(a.heap_size(), 5 + 2 * size_of::<usize>());
    }

    #[test]
    fn heap_size_weigher_adds_inline_size_and_overhead() {
        let w = HeapSizeWeigher.weigh(&0u64, &String::with_capacity(100));
        assert_eq!(
            w,
            (size_of::<u64>() + size_of::<String>() + 100) as u64 + ENTRY_OVERHEAD
        );
    }
}
