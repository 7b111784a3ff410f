//! Memory per entry of each cache holding 1 000 000 `u64 → u64` entries,
//! measured by a counting global allocator (bytes requested and not yet
//! freed, before and after filling a cache built for that capacity). Writes
//! `target/perfect21-results/lru-memory.json`.
//!
//! `cargo run --release -p perfect21-benches --bin lru_memory`

use std::alloc::{GlobalAlloc, Layout, System};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicIsize, Ordering};

use perfect21_benches::results::{self, Record};
use perfect21_lru::{ConcurrentLru, LruCache};

/// Bytes currently allocated through the global allocator.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments,
// which satisfy `GlobalAlloc`'s contract by the caller's obligation; the
// counter is a side effect that does not touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; see the impl's comment.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; see the impl's comment.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; see the impl's comment.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const ENTRIES: usize = 1_000_000;

/// Bytes per entry that `fill` leaves allocated (the cache is returned and
/// dropped after measuring).
fn per_entry<C>(fill: impl FnOnce() -> C, settle: impl FnOnce(&C)) -> f64 {
    let before = LIVE.load(Ordering::Relaxed);
    let cache = fill();
    settle(&cache);
    let after = LIVE.load(Ordering::Relaxed);
    drop(cache);
    (after - before) as f64 / ENTRIES as f64
}

fn main() {
    let cap = NonZeroUsize::new(ENTRIES).unwrap_or(NonZeroUsize::MIN);
    let n = ENTRIES as u64;
    let rows = [
        (
            "perfect21 (LruCache)",
            per_entry(
                || {
                    let mut c = LruCache::new(cap);
                    (0..n).for_each(|k| {
                        let _ = c.insert(k, k);
                    });
                    c
                },
                |c| assert_eq!(c.len(), ENTRIES),
            ),
        ),
        (
            "perfect21_concurrent (ConcurrentLru)",
            per_entry(
                || {
                    let c = ConcurrentLru::new(cap);
                    (0..n).for_each(|k| {
                        let _ = c.insert(k, k);
                    });
                    c
                },
                |c| assert!(c.len() <= ENTRIES),
            ),
        ),
        (
            "lru",
            per_entry(
                || {
                    let mut c = lru::LruCache::new(cap);
                    (0..n).for_each(|k| {
                        c.put(k, k);
                    });
                    c
                },
                |c| assert_eq!(c.len(), ENTRIES),
            ),
        ),
        (
            "schnellru",
            per_entry(
                || {
                    let mut c = schnellru::LruMap::new(schnellru::ByLength::new(n as u32));
                    (0..n).for_each(|k| {
                        c.insert(k, k);
                    });
                    c
                },
                |c| assert_eq!(c.len(), ENTRIES),
            ),
        ),
        (
            "quick_cache",
            per_entry(
                || {
                    let c = quick_cache::sync::Cache::new(ENTRIES);
                    (0..n).for_each(|k| c.insert(k, k));
                    c
                },
                |_| {},
            ),
        ),
        (
            "moka",
            per_entry(
                || {
                    let c = moka::sync::Cache::new(n);
                    (0..n).for_each(|k| c.insert(k, k));
                    c
                },
                |c| c.run_pending_tasks(),
            ),
        ),
    ];
    println!("| cache | bytes per entry, {ENTRIES} u64 → u64 entries |");
    println!("|---|---:|");
    let mut records = Vec::new();
    for (name, bytes) in rows {
        println!("| {name} | {bytes:.1} |");
        records.push(Record::new(
            "lru",
            format!("memory {ENTRIES} u64→u64 cache={name}"),
            "bytes per entry",
            (bytes * 10.0).round() / 10.0,
            "B",
        ));
    }
    match results::write("lru-memory", &records) {
        Ok(path) => println!("written to {}", path.display()),
        Err(e) => {
            eprintln!("lru_memory: writing results: {e}");
            std::process::exit(1);
        }
    }
}
