//! A pool that grows for a burst of blocking work and returns each result.
//!
//! `cargo run -p perfect21-thread-pool --example burst`
#![allow(clippy::print_stdout)]

use std::time::Duration;

use perfect21_thread_pool::{RejectionPolicy, ThreadPool};

/// Stand-in for blocking work: compression, hashing, a synchronous driver.
fn checksum(seed: u64) -> u64 {
    (0..200_000u64).fold(seed, |acc, n| {
        acc.rotate_left(5) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = ThreadPool::builder()
        .min_threads(1)
        .max_threads(8)
        .keep_alive(Duration::from_secs(5))
        .queue_capacity(1_000)
        .rejection(RejectionPolicy::CallerRuns)
        .thread_name("burst-worker")
        .build()?;

    // A burst of 64 tasks: the backlog makes the pool start threads at once
    // (not after a queue fills, as Java's ThreadPoolExecutor would).
    let handles = (0..64u64)
        .map(|seed| pool.spawn(move || checksum(seed)))
        .collect::<Result<Vec<_>, _>>()?;
    let results: Vec<u64> = handles
        .into_iter()
        .map(|handle| handle.join().expect("checksum does not panic"))
        .collect();
    assert_eq!(results, (0..64u64).map(checksum).collect::<Vec<_>>());

    // A panicking task is reported through its handle; the pool carries on.
    std::panic::set_hook(Box::new(|info| {
        println!("a task panicked, as planned: {info}")
    }));
    let broken = pool.spawn(|| -> u64 { panic!("bad input") })?;
    assert!(broken.join().is_err());

    pool.wait_idle();
    let stats = pool.stats();
    println!(
        "{} tasks, {} completed, {} panicked; peak {} threads (min {}, max {}), {} now",
        stats.submitted,
        stats.completed,
        stats.panicked,
        stats.peak_threads,
        stats.min_threads,
        stats.max_threads,
        stats.threads
    );
    assert_eq!(
        (stats.submitted, stats.completed, stats.panicked),
        (65, 64, 1)
    );
    assert!(stats.peak_threads > 1, "the burst grew the pool");
    Ok(())
}
