//! Closing loses nothing: `shutdown` flushes everything queued without
//! waiting for `max_wait` and waits for the batches; dropping the last
//! handle flushes the same way; later submits fail with `Closed`.

mod support;

use std::time::Duration;

use perfect21_batch::{BatchError, Batcher, FlushPolicy, TrySubmitError};
use support::{Gate, Seen, doubler, settle, within_a_day};
use tokio::time::Instant;

fn slow_to_flush(seen: &Seen, gate: Option<Gate>) -> Batcher<u64, u64, String> {
    Batcher::builder(doubler(seen.clone(), gate))
        .flush_policy(FlushPolicy::Fixed)
        .max_wait(Duration::from_secs(3600))
        .max_batch_size(4)
        .max_concurrent_batches(2)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn shutdown_flushes_everything_at_once_and_waits_for_it() {
    let (seen, gate) = (Seen::default(), Gate::closed());
    let batcher = slow_to_flush(&seen, Some(gate.clone()));
    let pending: Vec<_> = (0..11).map(|i| batcher.try_submit(i).unwrap()).collect();
    settle().await;
    assert_eq!(
        seen.batches(),
        [vec![0, 1, 2, 3], vec![4, 5, 6, 7]],
        "two full batches"
    );
    let start = Instant::now();
    let shutdown = tokio::spawn({
        let batcher = batcher.clone();
        async move { batcher.shutdown().await }
    });
    settle().await;
    assert!(!shutdown.is_finished(), "waits for the batches in flight");
    assert!(batcher.is_closed());
    gate.open_all();
    within_a_day(shutdown).await.unwrap();
    assert_eq!(Instant::now(), start, "no max_wait was waited");
    for (i, submission) in (0..).zip(pending) {
        assert_eq!(submission.await, Ok(2 * i));
    }
    assert_eq!(seen.batches()[2], [8, 9, 10]);
    let stats = batcher.stats();
    assert_eq!((stats.flushes.size, stats.flushes.shutdown), (2, 1));
    assert_eq!((stats.in_flight_batches, stats.queued_items), (0, 0));
    assert_eq!(stats.submitted, stats.completed);
}

#[tokio::test(start_paused = true)]
async fn submits_after_shutdown_fail_with_closed() {
    let seen = Seen::default();
    let batcher = slow_to_flush(&seen, None);
    batcher.shutdown().await;
    batcher.shutdown().await; // idempotent
    assert_eq!(batcher.submit(1).await, Err(BatchError::Closed));
    match batcher.try_submit(2) {
        Err(TrySubmitError::Closed(item)) => assert_eq!(item, 2),
        other => panic!("expected Closed, got {other:?}"),
    }
    assert!(seen.items().is_empty());
    assert_eq!(batcher.stats().rejected, 2);
}

#[tokio::test(start_paused = true)]
async fn submitters_waiting_for_room_get_closed() {
    let (seen, gate) = (Seen::default(), Gate::closed());
    let batcher = Batcher::builder(doubler(seen.clone(), Some(gate.clone())))
        .max_concurrent_batches(1)
        .queue_capacity(1)
        .build()
        .unwrap();
    let running = batcher.try_submit(1).unwrap();
    let queued = batcher.try_submit(2).unwrap();
    let blocked = tokio::spawn(batcher.submit(3));
    settle().await;
    let shutdown = tokio::spawn({
        let batcher = batcher.clone();
        async move { batcher.shutdown().await }
    });
    settle().await;
    assert_eq!(blocked.await.unwrap(), Err(BatchError::Closed));
    gate.open_all();
    within_a_day(shutdown).await.unwrap();
    assert_eq!((running.await, queued.await), (Ok(2), Ok(4)));
    assert_eq!(seen.items(), [1, 2]);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_last_handle_flushes_the_queue() {
    let seen = Seen::default();
    let batcher = slow_to_flush(&seen, None);
    let clone = batcher.clone();
    // Three items: below max_batch_size, far from max_wait.
    let pending: Vec<_> = (0..2).map(|i| batcher.try_submit(i).unwrap()).collect();
    let spawned = tokio::spawn(batcher.submit(2));
    settle().await;
    drop(batcher);
    settle().await;
    assert!(seen.items().is_empty(), "a clone still holds it open");
    let start = Instant::now();
    drop(clone);
    for (i, submission) in (0..).zip(pending) {
        assert_eq!(within_a_day(submission).await, Ok(2 * i));
    }
    assert_eq!(within_a_day(spawned).await.unwrap(), Ok(4));
    assert_eq!(
        Instant::now(),
        start,
        "flushed without waiting for max_wait"
    );
    assert_eq!(seen.batches(), [vec![0, 1, 2]]);
}

#[tokio::test]
async fn build_outside_a_runtime_needs_a_handle_and_runs_there() {
    // A runtime on its own thread; the batcher is built and used from
    // plain threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let handle = runtime.handle().clone();
    let outcome = std::thread::spawn(move || {
        let seen = Seen::default();
        let missing = Batcher::builder(doubler(seen.clone(), None)).build();
        assert_eq!(
            missing.unwrap_err(),
            perfect21_batch::ConfigError::NoRuntime
        );
        let batcher = Batcher::builder(doubler(seen, None))
            .runtime(handle.clone())
            .build()
            .unwrap();
        handle.block_on(batcher.submit(21))
    })
    .join()
    .unwrap();
    assert_eq!(outcome, Ok(42));
    runtime.shutdown_background();
}

#[test]
fn a_batch_lost_with_its_runtime_fails_with_aborted() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let batcher = Batcher::builder(|_items: Vec<u64>| async {
        std::future::pending::<()>().await;
        Ok::<Vec<u64>, String>(Vec::new())
    })
    .runtime(runtime.handle().clone())
    .build()
    .unwrap();
    let submission = batcher.try_submit(1).unwrap();
    runtime.block_on(settle());
    assert_eq!(batcher.stats().in_flight_batches, 1);
    drop(runtime);
    let other = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(other.block_on(submission), Err(BatchError::Aborted));
    let stats = batcher.stats();
    assert_eq!(stats.in_flight_batches, 0, "the slot was released");
    // Items submitted after the runtime is gone are not lost silently either.
    let late = batcher.try_submit(2).unwrap();
    assert_eq!(other.block_on(late), Err(BatchError::Aborted));
}

#[test]
fn items_aborted_by_a_runtime_shutdown_are_counted_once() {
    for policy in [FlushPolicy::Eager, FlushPolicy::Fixed] {
        aborted_items_are_counted(policy);
    }
}

fn aborted_items_are_counted(policy: FlushPolicy) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let batcher = Batcher::builder(|_items: Vec<u64>| async {
        std::future::pending::<()>().await;
        Ok::<Vec<u64>, String>(Vec::new())
    })
    .flush_policy(policy)
    .max_wait(Duration::from_secs(3600))
    .max_batch_size(2)
    .max_concurrent_batches(1)
    .runtime(runtime.handle().clone())
    .build()
    .unwrap();
    // One batch in flight (eager: a lone item; fixed: a full batch), one
    // item queued behind it.
    let first = if policy == FlushPolicy::Eager { 1 } else { 2 };
    let in_flight: Vec<_> = (0..first).map(|i| batcher.try_submit(i).unwrap()).collect();
    runtime.block_on(settle());
    let queued = batcher.try_submit(first).unwrap();
    let stats = batcher.stats();
    assert_eq!(
        (stats.in_flight_batches, stats.queued_items),
        (1, 1),
        "{policy:?}"
    );
    drop(runtime);
    let other = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for submission in in_flight {
        assert_eq!(other.block_on(submission), Err(BatchError::Aborted));
    }
    // The queued item went out (to the dead runtime, whose timer is gone
    // too) when the slot was released, and was aborted unpolled: it does
    // not wait for a later submit or a close to move it.
    let answered_now = other.block_on(async {
        tokio::select! {
            biased;
            outcome = queued => Some(outcome),
            () = std::future::ready(()) => None,
        }
    });
    assert_eq!(answered_now, Some(Err(BatchError::Aborted)), "{policy:?}");
    let stats = batcher.stats();
    assert_eq!(
        (stats.submitted, stats.completed, stats.failed),
        (first + 1, 0, 0)
    );
    assert_eq!(stats.outstanding(), 0, "{policy:?}: {stats:?}");
    assert_eq!(stats.aborted, first + 1, "{stats:?}");
    assert_eq!(
        stats.submitted,
        stats.completed + stats.failed + stats.cancelled + stats.aborted
    );
}

/// Found by the `batch_model` fuzz target: under `Fixed`, an item waiting
/// for `max_wait` with no batch in flight was stranded when the runtime
/// (and the timer task with it) shut down — until the batcher was closed.
#[test]
fn a_queued_item_is_aborted_when_the_runtime_dies_with_nothing_in_flight() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let seen = Seen::default();
    let batcher = Batcher::builder(doubler(seen.clone(), None))
        .flush_policy(FlushPolicy::Fixed)
        .max_wait(Duration::from_millis(2))
        .max_batch_size(2)
        .runtime(runtime.handle().clone())
        .build()
        .unwrap();
    let queued = {
        let _entered = runtime.enter();
        batcher.try_submit(1).unwrap()
    };
    runtime.block_on(settle());
    assert_eq!(batcher.stats().queued_items, 1);
    drop(runtime);
    let other = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let answered_now = other.block_on(async {
        tokio::select! {
            biased;
            outcome = queued => Some(outcome),
            () = std::future::ready(()) => None,
        }
    });
    assert_eq!(answered_now, Some(Err(BatchError::Aborted)));
    assert!(seen.items().is_empty());
    let stats = batcher.stats();
    assert_eq!(
        (stats.submitted, stats.aborted, stats.outstanding()),
        (1, 1, 0)
    );
}
