//! Any bytes stored under a key → a value or a decode error, never a
//! panic, and the reader's memory bounded by a small multiple of
//! `max_value_size` whatever the bytes claim (a length prefix of 4 GiB, an
//! LZ4 or zstd bomb). A counting allocator measures the peak of live bytes
//! during each decode. Also: every value the crate writes reads back.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use libfuzzer_sys::fuzz_target;
use perfect21_redis_cache::fuzzing;

/// The readers' `max_value_size` here: small, so a broken bound shows at once.
const MAX_VALUE: usize = 64 << 10;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let live = LIVE.fetch_add(size, Relaxed) + size;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; the counters only
// observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let _ = fuzzing::decode(mode, bytes, MAX_VALUE);
    let grown = PEAK.load(Relaxed) - base;
    assert!(
        grown <= 4 * MAX_VALUE,
        "decoding {} bytes held {grown} bytes at its peak (bound: 4 × {MAX_VALUE})",
        bytes.len()
    );
    if mode & 0x80 != 0 {
        let text = String::from_utf8_lossy(bytes);
        if let Some(back) = fuzzing::round_trip(&text, MAX_VALUE, mode & 0x40 != 0) {
            assert_eq!(back, text);
        }
    }
});
