//! Many tasks on a multi-threaded runtime, then exact totals: 100 000
//! submits from 64 tasks, every one answered with its own output, and the
//! counters agreeing with what the callers saw.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use perfect21_batch::{BatchError, Batcher, FlushPolicy};

const TASKS: u64 = 64;
const TOTAL: u64 = 100_000;

async fn hammer(policy: FlushPolicy) {
    let seen_items = Arc::new(AtomicU64::new(0));
    let seen_sum = Arc::new(AtomicU64::new(0));
    let (items_counter, sum_counter) = (Arc::clone(&seen_items), Arc::clone(&seen_sum));
    let batcher = Batcher::builder(move |items: Vec<u64>| {
        items_counter.fetch_add(items.len() as u64, Ordering::Relaxed);
        sum_counter.fetch_add(items.iter().sum::<u64>(), Ordering::Relaxed);
        async move {
            tokio::task::yield_now().await;
            // Every 1000th item fails its whole batch.
            if items.iter().any(|x| x % 1000 == 999) {
                return Err("unlucky batch");
            }
            Ok(items.into_iter().map(|x| x * 3 + 1).collect())
        }
    })
    .flush_policy(policy)
    .max_batch_size(64)
    .max_concurrent_batches(3)
    .queue_capacity(256)
    .max_wait(std::time::Duration::from_micros(50))
    .build()
    .unwrap();

    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let batcher = batcher.clone();
            tokio::spawn(async move {
                let (mut ok, mut failed) = (0u64, 0u64);
                let mut item = t;
                while item < TOTAL {
                    match batcher.submit(item).await {
                        Ok(output) => {
                            assert_eq!(output, item * 3 + 1, "misrouted output");
                            ok += 1;
                        }
                        Err(BatchError::Failed(_)) => failed += 1,
                        Err(other) => panic!("unexpected {other:?}"),
                    }
                    item += TASKS;
                }
                (ok, failed)
            })
        })
        .collect();
    let (mut ok, mut failed) = (0, 0);
    for task in tasks {
        let (o, f) = task.await.unwrap();
        ok += o;
        failed += f;
    }
    batcher.shutdown().await;

    assert_eq!(ok + failed, TOTAL, "every submit got exactly one outcome");
    assert!(failed >= 100, "each 1000th item fails its batch");
    assert_eq!(
        seen_items.load(Ordering::Relaxed),
        TOTAL,
        "each item sent once"
    );
    assert_eq!(seen_sum.load(Ordering::Relaxed), TOTAL * (TOTAL - 1) / 2);
    let stats = batcher.stats();
    assert_eq!(stats.submitted, TOTAL);
    assert_eq!(
        (stats.completed, stats.failed, stats.cancelled),
        (ok, failed, 0)
    );
    assert_eq!((stats.queued_items, stats.in_flight_batches), (0, 0));
    let flushes = stats.flushes;
    assert_eq!(
        flushes.size + flushes.time + flushes.eager + flushes.shutdown,
        stats.batches
    );
    assert!(stats.batch_size.max <= 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eager_100k_submits_from_64_tasks_exact_totals() {
    hammer(FlushPolicy::Eager).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fixed_100k_submits_from_64_tasks_exact_totals() {
    hammer(FlushPolicy::Fixed).await;
}
