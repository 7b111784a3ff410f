//! Many concurrent lookups, few round trips: each caller awaits its own row.
//!
//! `cargo run -p perfect21-batch --example coalesce`
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use perfect21_batch::KeyedBatcher;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Stand-in for `SELECT id, name FROM users WHERE id = ANY($1)`: one
    // round trip (1 ms) however many ids it gets.
    let queries = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&queries);
    let users = KeyedBatcher::builder(move |ids: Vec<u32>| {
        counter.fetch_add(1, Ordering::Relaxed);
        async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let rows: HashMap<u32, String> = ids
                .into_iter()
                .filter(|id| *id < 900) // ids from 900 up do not exist
                .map(|id| (id, format!("user {id}")))
                .collect();
            Ok::<_, Infallible>(rows)
        }
    })
    .max_batch_size(128)
    .max_concurrent_batches(2)
    .build()?;

    // 1 000 requests at once, for 100 distinct users plus a few unknown ones.
    let tasks: Vec<_> = (0..1_000u32)
        .map(|n| {
            let id = if n % 100 == 0 { 900 + n / 100 } else { n % 100 };
            let load = users.load(id);
            tokio::spawn(async move { (id, load.await) })
        })
        .collect();
    for task in tasks {
        let (id, row) = task.await?;
        let expected = (id < 900).then(|| format!("user {id}"));
        assert_eq!(row?, expected, "each caller gets its own row");
    }

    users.shutdown().await;
    let stats = users.stats();
    let queries = queries.load(Ordering::Relaxed);
    println!(
        "{} lookups answered by {} queries ({} batches, {} duplicate ids folded, largest {} ids)",
        stats.submitted, queries, stats.batches, stats.deduplicated, stats.batch_size.max
    );
    assert_eq!(stats.submitted, 1_000);
    assert!(queries < 100, "coalesced: {queries} queries");
    Ok(())
}
