//! Memory per entry of each cache after 1 000 000 `u64 → u64` inserts into a
//! cache built for that capacity, measured by a counting global allocator
//! (bytes requested and not yet freed, before and after filling) and divided
//! by the entries the cache actually holds afterwards (a sharded or
//! admission-filtered cache may hold fewer than were inserted; dividing by
//! the inserts would flatter it). Writes
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

/// Bytes per held entry that `fill` leaves allocated, and how many entries
/// are held (`held` settles the cache and counts them; the cache is dropped
/// after measuring).
fn per_entry<C>(fill: impl FnOnce() -> C, held: impl FnOnce(&C) -> usize) -> (f64, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    let cache = fill();
    let held = held(&cache);
    let after = LIVE.load(Ordering::Relaxed);
    drop(cache);
    ((after - before) as f64 / held.max(1) as f64, held)
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
                |c| c.len(),
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
                |c| c.len(),
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
                |c| c.len(),
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
                |c| c.len(),
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
                |c| c.len(),
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
                |c| {
                    c.run_pending_tasks();
                    usize::try_from(c.entry_count()).unwrap_or(usize::MAX)
                },
            ),
        ),
    ];
    println!("| cache | entries held of {ENTRIES} inserted | bytes per entry held |");
    println!("|---|---:|---:|");
    let mut records = Vec::new();
    for (name, (bytes, held)) in rows {
        println!("| {name} | {held} | {bytes:.1} |");
        records.push(Record::new(
            "lru",
            format!("memory {ENTRIES} u64→u64 inserted, {held} held, cache={name}"),
            "bytes per entry held",
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
