//! The stats snapshot: flush reasons, the batch-size histogram and the
//! queue-wait percentiles agree with what happened (tokio's clock is
//! paused, so every wait is known exactly).

mod support;

use std::time::Duration;

use perfect21_batch::{Batcher, FlushPolicy};
use support::{Seen, doubler};

#[tokio::test(start_paused = true)]
async fn sizes_waits_and_reasons_match_the_schedule() {
    let seen = Seen::default();
    let max_wait = Duration::from_millis(20);
    let batcher = Batcher::builder(doubler(seen.clone(), None))
        .flush_policy(FlushPolicy::Fixed)
        .max_wait(max_wait)
        .max_batch_size(4)
        .build()
        .unwrap();
    let empty = batcher.stats();
    assert_eq!(
        (empty.batches, empty.batch_size.max, empty.queue_wait.max),
        (0, 0, Duration::ZERO)
    );

    // Batch 1: four items at once -> size flush, waits 0.
    let full: Vec<_> = (0..4).map(|i| batcher.try_submit(i).unwrap()).collect();
    for submission in full {
        submission.await.unwrap();
    }
    // Batch 2: one item alone -> time flush after exactly max_wait.
    batcher.submit(9).await.unwrap();
    // Batch 3: two items 5 ms apart -> time flush; waits 20 ms and 15 ms.
    let first = batcher.try_submit(10).unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = batcher.try_submit(11).unwrap();
    first.await.unwrap();
    second.await.unwrap();

    let stats = batcher.stats();
    assert_eq!(seen.batches(), [vec![0, 1, 2, 3], vec![9], vec![10, 11]]);
    assert_eq!(stats.batches, 3);
    assert_eq!(
        (stats.flushes.size, stats.flushes.time, stats.flushes.eager),
        (1, 2, 0)
    );
    assert_eq!((stats.submitted, stats.completed, stats.failed), (7, 7, 0));
    assert_eq!(stats.batch_size.max, 4);
    assert_eq!(stats.batch_size.p50, 2);
    assert!((stats.batch_size.mean - 7.0 / 3.0).abs() < 1e-9);
    // Waits: four of 0, one of 20 ms, one of 20 ms, one of 15 ms; the
    // histogram keeps three significant digits.
    let close_to = |d: Duration, expected: Duration| {
        let (d, e) = (d.as_nanos() as f64, expected.as_nanos() as f64);
        (d - e).abs() <= e * 1e-3
    };
    assert!(
        close_to(stats.queue_wait.max, max_wait),
        "{:?}",
        stats.queue_wait
    );
    assert!(
        close_to(stats.queue_wait.p99, max_wait),
        "{:?}",
        stats.queue_wait
    );
    assert_eq!(stats.queue_wait.p50, Duration::ZERO);
    let mean = Duration::from_millis(55) / 7;
    assert!(
        close_to(stats.queue_wait.mean, mean),
        "{:?}",
        stats.queue_wait
    );
    assert_eq!(stats.outstanding(), 0);
}

#[cfg(feature = "serde")]
#[tokio::test]
async fn the_snapshot_serializes() {
    let batcher = Batcher::builder(|items: Vec<u8>| async move { Ok::<_, ()>(items) })
        .build()
        .unwrap();
    batcher.submit(1).await.unwrap();
    let json = serde_json::to_value(batcher.stats()).unwrap();
    assert_eq!(json["submitted"], 1);
    assert_eq!(json["flushes"]["eager"], 1);
}
