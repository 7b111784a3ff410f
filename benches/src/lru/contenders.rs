//! The contenders of the `perfect21-lru` measurements behind two small
//! interfaces — [`Single`] (driven from one thread) and [`Shared`] (driven
//! from several) — so the criterion bench, the Zipf hit-ratio program and
//! the trace replay drive every cache the same way. Values are `u64`
//! (`key → key`); results go through `black_box` so nothing is optimised
//! away.

use std::hint::black_box;
use std::num::NonZeroUsize;

use parking_lot::Mutex;
use perfect21_lru::{ConcurrentLru, LruCache};

use super::zipf::Op;

/// A cache driven from one thread.
pub trait Single {
    /// Looks `key` up (promoting it, where the cache does); whether it hit.
    fn get(&mut self, key: u64) -> bool;
    /// Writes `key → key`.
    fn insert(&mut self, key: u64);
}

/// A cache shared by threads.
pub trait Shared: Sync {
    /// Looks `key` up; whether it hit.
    fn get(&self, key: u64) -> bool;
    /// Writes `key → key`.
    fn insert(&self, key: u64);
}

/// A shared cache driven from one thread.
#[derive(Debug)]
pub struct Alone<T>(pub T);

impl<T: Shared> Single for Alone<T> {
    #[inline]
    fn get(&mut self, key: u64) -> bool {
        self.0.get(key)
    }
    #[inline]
    fn insert(&mut self, key: u64) {
        self.0.insert(key)
    }
}

impl Single for LruCache<u64, u64> {
    #[inline]
    fn get(&mut self, key: u64) -> bool {
        black_box(LruCache::get(self, &key)).is_some()
    }
    #[inline]
    fn insert(&mut self, key: u64) {
        let _ = black_box(LruCache::insert(self, key, key));
    }
}

impl Single for lru::LruCache<u64, u64> {
    #[inline]
    fn get(&mut self, key: u64) -> bool {
        black_box(lru::LruCache::get(self, &key)).is_some()
    }
    #[inline]
    fn insert(&mut self, key: u64) {
        black_box(self.put(key, key));
    }
}

impl Single for schnellru::LruMap<u64, u64> {
    #[inline]
    fn get(&mut self, key: u64) -> bool {
        black_box(schnellru::LruMap::get(self, &key)).is_some()
    }
    #[inline]
    fn insert(&mut self, key: u64) {
        black_box(schnellru::LruMap::insert(self, key, key));
    }
}

impl Single for quick_cache::unsync::Cache<u64, u64> {
    #[inline]
    fn get(&mut self, key: u64) -> bool {
        black_box(quick_cache::unsync::Cache::get(self, &key)).is_some()
    }
    #[inline]
    fn insert(&mut self, key: u64) {
        quick_cache::unsync::Cache::insert(self, key, key);
    }
}

impl Shared for ConcurrentLru<u64, u64> {
    #[inline]
    fn get(&self, key: u64) -> bool {
        black_box(ConcurrentLru::get(self, &key)).is_some()
    }
    #[inline]
    fn insert(&self, key: u64) {
        let _ = black_box(ConcurrentLru::insert(self, key, key));
    }
}

impl<T: Single + Send> Shared for Mutex<T> {
    #[inline]
    fn get(&self, key: u64) -> bool {
        self.lock().get(key)
    }
    #[inline]
    fn insert(&self, key: u64) {
        self.lock().insert(key)
    }
}

impl Shared for quick_cache::sync::Cache<u64, u64> {
    #[inline]
    fn get(&self, key: u64) -> bool {
        black_box(quick_cache::sync::Cache::get(self, &key)).is_some()
    }
    #[inline]
    fn insert(&self, key: u64) {
        quick_cache::sync::Cache::insert(self, key, key);
    }
}

impl Shared for moka::sync::Cache<u64, u64> {
    #[inline]
    fn get(&self, key: u64) -> bool {
        black_box(moka::sync::Cache::get(self, &key)).is_some()
    }
    #[inline]
    fn insert(&self, key: u64) {
        moka::sync::Cache::insert(self, key, key);
    }
}

fn cap(capacity: usize) -> NonZeroUsize {
    NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN)
}

/// `perfect21_lru::LruCache`.
pub fn ours(capacity: usize) -> LruCache<u64, u64> {
    LruCache::new(cap(capacity))
}
/// `perfect21_lru::ConcurrentLru` with the default shards.
pub fn ours_concurrent(capacity: usize) -> ConcurrentLru<u64, u64> {
    ConcurrentLru::new(cap(capacity))
}
/// The `lru` crate.
pub fn lru_crate(capacity: usize) -> lru::LruCache<u64, u64> {
    lru::LruCache::new(cap(capacity))
}
/// `schnellru::LruMap` bounded by length.
pub fn schnellru(capacity: usize) -> schnellru::LruMap<u64, u64> {
    schnellru::LruMap::new(schnellru::ByLength::new(capacity as u32))
}
/// `quick_cache::unsync::Cache`.
pub fn quick_unsync(capacity: usize) -> quick_cache::unsync::Cache<u64, u64> {
    quick_cache::unsync::Cache::new(capacity)
}
/// `quick_cache::sync::Cache`.
pub fn quick_sync(capacity: usize) -> quick_cache::sync::Cache<u64, u64> {
    quick_cache::sync::Cache::new(capacity)
}
/// `moka::sync::Cache`.
pub fn moka(capacity: usize) -> moka::sync::Cache<u64, u64> {
    moka::sync::Cache::new(capacity as u64)
}

/// Applies one operation of a mixed workload; `Some(hit)` for a get.
#[inline]
pub fn apply_single<C: Single>(cache: &mut C, op: Op) -> Option<bool> {
    match op {
        Op::Get(k) => Some(cache.get(k)),
        Op::Insert(k) => {
            cache.insert(k);
            None
        }
    }
}

/// Applies one operation to a shared cache; `Some(hit)` for a get.
#[inline]
pub fn apply_shared<C: Shared>(cache: &C, op: Op) -> Option<bool> {
    match op {
        Op::Get(k) => Some(cache.get(k)),
        Op::Insert(k) => {
            cache.insert(k);
            None
        }
    }
}

/// A demand-paged access: look up, insert on a miss; whether it hit.
#[inline]
pub fn demand_single<C: Single>(cache: &mut C, key: u64) -> bool {
    cache.get(key) || {
        cache.insert(key);
        false
    }
}

/// A demand-paged access to a shared cache.
#[inline]
pub fn demand_shared<C: Shared>(cache: &C, key: u64) -> bool {
    cache.get(key) || {
        cache.insert(key);
        false
    }
}
