//! Reuse 64 KiB request buffers instead of allocating one per request.
//!
//! `cargo run -p perfect21-object-pool --example buffer_pool`
#![allow(clippy::print_stdout)]

use std::thread;

use perfect21_object_pool::{ObjectPool, Reset};

fn main() -> Result<(), perfect21_object_pool::Error> {
    let pool = ObjectPool::builder(|| Vec::<u8>::with_capacity(64 * 1024))
        .reset(Reset::reset) // cleared on return, capacity kept
        .validate(|buf| buf.capacity() <= 1 << 20) // a buffer that grew past 1 MiB is dropped
        .max_idle(8)
        .prefill(4)
        .build()?;

    // Four threads each handle 1 000 "requests"; each request borrows a
    // buffer, fills it and gives it back when the guard drops.
    thread::scope(|scope| {
        for worker in 0..4u8 {
            let pool = &pool;
            scope.spawn(move || {
                for request in 0..1_000u32 {
                    let mut buf = pool.get().expect("no max_total: get never fails");
                    assert!(buf.is_empty(), "a reused buffer comes back clean");
                    buf.extend_from_slice(&request.to_le_bytes());
                    buf.push(worker);
                }
            });
        }
    });

    // One request that outgrows the limit: its buffer is not kept.
    pool.get()?.resize(2 << 20, 0);

    let stats = pool.stats();
    println!(
        "4 001 gets: {} buffers created (4 of them by the prefill), {} reused ({:.1} % reuse), {} dropped as invalid, {} idle",
        stats.created,
        stats.reused,
        stats.reuse_ratio() * 100.0,
        stats.discarded_invalid,
        stats.idle,
    );
    // Every get either reused a buffer or created one; prefilled ones count
    // as created. Four threads rarely need more than the four prefilled.
    assert_eq!(stats.created + stats.reused, 4 + 4_001);
    assert!(stats.created <= 8, "{} buffers created", stats.created);
    assert_eq!(stats.discarded_invalid, 1);
    Ok(())
}
