//! A cache that can never outgrow its byte budget, with TTL and exact stats.
//!
//! `cargo run -p perfect21-lru --example byte_budget`
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use perfect21_lru::{ConcurrentLru, LruCache};

fn main() -> Result<(), perfect21_lru::Error> {
    // Rendered pages: at most 1 000 entries *and* at most 64 KiB of bodies.
    let mut pages = LruCache::builder()
        .max_entries(1_000)
        .max_weight(64 * 1024)
        .weigher(|path: &String, body: &String| (path.len() + body.len()) as u64)
        .time_to_live(Duration::from_secs(30))
        .build()?;

    for n in 0..500 {
        let body = "x".repeat(200 + n % 300);
        pages.insert(format!("/page/{n}"), body).ok();
    }
    // The weight cap binds long before the entry cap.
    assert!(pages.weight() <= 64 * 1024);
    assert!(pages.len() < 500);
    // The most recent pages survived, the oldest were evicted.
    assert!(pages.get("/page/499").is_some());
    assert!(pages.get("/page/0").is_none());
    let stats = pages.stats();
    println!(
        "single-threaded: {} pages, {} bytes, {} evicted by weight, hit ratio {:.2}",
        pages.len(),
        pages.weight(),
        stats.evicted_max_weight,
        stats.hit_ratio()
    );

    // The sharded form is shared across threads (`&self`), with one loader
    // per missing key.
    let users: Arc<ConcurrentLru<u32, String>> =
        Arc::new(ConcurrentLru::builder().max_entries(10_000).build()?);
    thread::scope(|scope| {
        for _ in 0..4 {
            let users = Arc::clone(&users);
            scope.spawn(move || {
                for id in 0..1_000u32 {
                    let name = users.get_or_insert_with(id % 100, || format!("user {}", id % 100));
                    assert_eq!(name, format!("user {}", id % 100));
                }
            });
        }
    });
    let stats = users.stats();
    println!(
        "concurrent: {} lookups, {} entries, {} misses, hit ratio {:.3}",
        stats.hits + stats.misses,
        users.len(),
        stats.misses,
        stats.hit_ratio()
    );
    assert_eq!(users.len(), 100);
    assert_eq!(stats.hits + stats.misses, 4_000);
    Ok(())
}
