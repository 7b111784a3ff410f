//! A failing batch fails its own items and nothing else: an `Err`, a wrong
//! output count, a panic and a timeout each reach every item of that batch
//! as one clear error, and the batcher goes on working.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use perfect21_batch::{BatchError, Batcher};
use support::settle;

/// Submits `items` at once (one full batch of `fixed_batches`) and awaits
/// every outcome.
async fn run_batch<O: Send + 'static, E: Clone + Send + 'static>(
    batcher: &Batcher<u64, O, E>,
    items: &[u64],
) -> Vec<Result<O, BatchError<E>>> {
    let pending: Vec<_> = items
        .iter()
        .map(|&i| batcher.try_submit(i).unwrap())
        .collect();
    let mut outcomes = Vec::new();
    for submission in pending {
        outcomes.push(submission.await);
    }
    outcomes
}

/// A batcher whose function misbehaves on batches that contain 13.
fn fixed_batches<O, E, F, Fut>(batch_fn: F) -> Batcher<u64, O, E>
where
    O: Send + 'static,
    E: Clone + Send + 'static,
    F: Fn(Vec<u64>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<O>, E>> + Send + 'static,
{
    Batcher::builder(batch_fn)
        .flush_policy(perfect21_batch::FlushPolicy::Fixed)
        .max_batch_size(3)
        .max_wait(Duration::from_secs(3600))
        .batch_timeout(Duration::from_secs(1))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn an_error_reaches_every_item_of_its_batch_only() {
    let batcher = fixed_batches(|items: Vec<u64>| async move {
        if items.contains(&13) {
            Err(Arc::new(std::io::Error::other("backend down")))
        } else {
            Ok(items)
        }
    });
    let failed = run_batch(&batcher, &[12, 13, 14]).await;
    assert_eq!(failed.len(), 3);
    for outcome in &failed {
        match outcome {
            Err(BatchError::Failed(error)) => assert_eq!(error.to_string(), "backend down"),
            other => panic!("expected Failed, got {other:?}"),
        }
    }
    let ok: Vec<u64> = run_batch(&batcher, &[1, 2, 3])
        .await
        .into_iter()
        .map(|o| o.unwrap())
        .collect();
    assert_eq!(ok, [1, 2, 3]);
    let stats = batcher.stats();
    assert_eq!((stats.failed, stats.completed), (3, 3));
    assert_eq!(stats.failures.error, 1);
}

#[tokio::test(start_paused = true)]
async fn a_wrong_output_count_fails_the_batch_and_never_misroutes() {
    let batcher = fixed_batches(|items: Vec<u64>| async move {
        let mut outputs = items.clone();
        if items.contains(&13) {
            outputs.pop(); // one too few
        }
        if items.contains(&99) {
            outputs.push(0); // one too many
        }
        Ok::<_, String>(outputs)
    });
    let too_few = run_batch(&batcher, &[11, 12, 13]).await;
    assert_eq!(
        too_few,
        vec![
            Err(BatchError::OutputCountMismatch {
                expected: 3,
                actual: 2
            });
            3
        ]
    );
    let too_many = run_batch(&batcher, &[97, 98, 99]).await;
    assert_eq!(
        too_many,
        vec![
            Err(BatchError::OutputCountMismatch {
                expected: 3,
                actual: 4
            });
            3
        ]
    );
    assert_eq!(run_batch(&batcher, &[1, 2, 3]).await, [Ok(1), Ok(2), Ok(3)]);
    assert_eq!(batcher.stats().failures.output_mismatch, 2);
}

#[tokio::test(start_paused = true)]
async fn a_panic_fails_its_batch_and_the_batcher_keeps_working() {
    let batcher = fixed_batches(|items: Vec<u64>| async move {
        tokio::task::yield_now().await;
        if items.contains(&13) {
            panic!("unlucky batch {items:?}");
        }
        Ok::<_, String>(items)
    });
    let panicked = run_batch(&batcher, &[11, 12, 13]).await;
    for outcome in panicked {
        match outcome {
            Err(BatchError::Panicked { message }) => {
                assert_eq!(message, "unlucky batch [11, 12, 13]")
            }
            other => panic!("expected Panicked, got {other:?}"),
        }
    }
    for round in 0..3 {
        let base = 100 * round;
        assert_eq!(
            run_batch(&batcher, &[base, base + 1, base + 2]).await,
            [Ok(base), Ok(base + 1), Ok(base + 2)]
        );
    }
    let stats = batcher.stats();
    assert_eq!(
        (stats.failures.panic, stats.failed, stats.completed),
        (1, 3, 9)
    );
    assert_eq!(
        stats.in_flight_batches, 0,
        "the panicked batch gave its slot back"
    );
}

#[tokio::test(start_paused = true)]
async fn a_panic_before_the_future_is_returned_is_caught_too() {
    let batcher = fixed_batches(|items: Vec<u64>| {
        assert!(!items.contains(&13), "refusing {items:?}");
        std::future::ready(Ok::<_, String>(items))
    });
    let outcomes = run_batch(&batcher, &[11, 12, 13]).await;
    assert!(outcomes.iter().all(
        |o| matches!(o, Err(BatchError::Panicked { message }) if message.contains("refusing"))
    ));
    assert_eq!(run_batch(&batcher, &[1, 2, 3]).await, [Ok(1), Ok(2), Ok(3)]);
}

#[tokio::test(start_paused = true)]
async fn a_batch_over_its_timeout_fails_with_timeout_and_is_dropped() {
    let dropped = Arc::new(AtomicUsize::new(0));
    struct CountDrop(Arc<AtomicUsize>);
    impl Drop for CountDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let counter = Arc::clone(&dropped);
    let batcher = fixed_batches(move |items: Vec<u64>| {
        let guard = CountDrop(Arc::clone(&counter));
        async move {
            let _guard = guard;
            if items.contains(&13) {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            Ok::<_, String>(items)
        }
    });
    let start = tokio::time::Instant::now();
    let timed_out = run_batch(&batcher, &[11, 12, 13]).await;
    assert_eq!(
        timed_out,
        vec![
            Err(BatchError::Timeout {
                after: Duration::from_secs(1)
            });
            3
        ]
    );
    assert_eq!(tokio::time::Instant::now(), start + Duration::from_secs(1));
    settle().await;
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the slow future was dropped"
    );
    assert_eq!(run_batch(&batcher, &[1, 2, 3]).await, [Ok(1), Ok(2), Ok(3)]);
    assert_eq!(batcher.stats().failures.timeout, 1);
}
