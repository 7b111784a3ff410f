//! When batches go out: the eager policy adds no delay when idle and fills
//! batches when busy; `Fixed` waits exactly `max_wait` or until
//! `max_batch_size`; every policy respects `max_concurrent_batches`.
//! Tokio's clock is paused: a wrong wait shows up as time that moved.

mod support;

use std::time::Duration;

use perfect21_batch::{Batcher, BatcherBuilder, FlushPolicy};
use support::{Gate, Seen, doubler, settle};
use tokio::time::Instant;

/// A `Fixed` batcher around `doubler`, to finish configuring.
fn fixed(seen: &Seen, max_wait: Duration) -> BatcherBuilder<u64, u64, String> {
    Batcher::builder(doubler(seen.clone(), None))
        .flush_policy(FlushPolicy::Fixed)
        .max_wait(max_wait)
}

#[tokio::test(start_paused = true)]
async fn eager_sends_a_lone_item_at_once() {
    let seen = Seen::default();
    let batcher = Batcher::builder(doubler(seen.clone(), None))
        .max_wait(Duration::from_secs(1))
        .build()
        .unwrap();
    let start = Instant::now();
    assert_eq!(batcher.submit(21).await, Ok(42));
    assert_eq!(seen.times(), [start], "dispatched with no added delay");
    assert_eq!(Instant::now(), start);
    let stats = batcher.stats();
    assert_eq!((stats.flushes.eager, stats.batches), (1, 1));
    assert_eq!(stats.queue_wait.max, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn fixed_makes_a_lone_item_wait_exactly_max_wait() {
    let seen = Seen::default();
    let max_wait = Duration::from_millis(7);
    let batcher = fixed(&seen, max_wait).build().unwrap();
    let start = Instant::now();
    assert_eq!(batcher.submit(5).await, Ok(10));
    assert_eq!(seen.times(), [start + max_wait]);
    assert_eq!(Instant::now(), start + max_wait);
    assert_eq!(batcher.stats().flushes.time, 1);
}

#[tokio::test(start_paused = true)]
async fn fixed_sends_a_full_batch_without_waiting() {
    let seen = Seen::default();
    let batcher = fixed(&seen, Duration::from_secs(3600))
        .max_batch_size(4)
        .build()
        .unwrap();
    let start = Instant::now();
    let pending: Vec<_> = (0..4).map(|i| batcher.try_submit(i).unwrap()).collect();
    for (i, submission) in pending.into_iter().enumerate() {
        assert_eq!(submission.await, Ok(2 * i as u64));
    }
    assert_eq!(seen.batches(), [vec![0, 1, 2, 3]]);
    assert_eq!(seen.times(), [start]);
    assert_eq!(Instant::now(), start);
    let stats = batcher.stats();
    assert_eq!((stats.flushes.size, stats.flushes.time), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn fixed_timer_restarts_from_the_next_oldest_item() {
    let seen = Seen::default();
    let max_wait = Duration::from_millis(10);
    let batcher = fixed(&seen, max_wait).build().unwrap();
    let start = Instant::now();
    let first = batcher.try_submit(1).unwrap();
    tokio::time::sleep(Duration::from_millis(4)).await;
    let second = batcher.try_submit(2).unwrap();
    assert_eq!(first.await, Ok(2));
    // The batch left when the first item's wait ran out, with both items.
    assert_eq!(seen.batches(), [vec![1, 2]]);
    assert_eq!(seen.times(), [start + max_wait]);
    assert_eq!(second.await, Ok(4));
    let third = batcher.try_submit(3).unwrap();
    let queued_at = Instant::now();
    assert_eq!(third.await, Ok(6));
    assert_eq!(seen.times()[1], queued_at + max_wait);
}

#[tokio::test(start_paused = true)]
async fn eager_fills_the_next_batch_while_every_slot_is_busy() {
    let seen = Seen::default();
    let gate = Gate::closed();
    let batcher = Batcher::builder(doubler(seen.clone(), Some(gate.clone())))
        .max_concurrent_batches(1)
        .build()
        .unwrap();
    let first = batcher.try_submit(1).unwrap();
    settle().await;
    assert_eq!(
        seen.batches(),
        [vec![1]],
        "the first item went alone, at once"
    );
    let rest: Vec<_> = (2..=5).map(|i| batcher.try_submit(i).unwrap()).collect();
    settle().await;
    let stats = batcher.stats();
    assert_eq!((stats.in_flight_batches, stats.queued_items), (1, 4));
    gate.open_all();
    assert_eq!(first.await, Ok(2));
    for (i, submission) in (2..=5).zip(rest) {
        assert_eq!(submission.await, Ok(2 * i));
    }
    assert_eq!(seen.batches(), [vec![1], vec![2, 3, 4, 5]]);
    assert_eq!(batcher.stats().flushes.eager, 2);
}

#[tokio::test(start_paused = true)]
async fn no_policy_runs_more_than_max_concurrent_batches() {
    for policy in [FlushPolicy::Eager, FlushPolicy::Fixed] {
        let seen = Seen::default();
        let gate = Gate::closed();
        let batcher = Batcher::builder(doubler(seen.clone(), Some(gate.clone())))
            .flush_policy(policy)
            .max_batch_size(2)
            .max_concurrent_batches(3)
            .max_wait(Duration::from_millis(1))
            .build()
            .unwrap();
        let pending: Vec<_> = (0..20).map(|i| batcher.try_submit(i).unwrap()).collect();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let stats = batcher.stats();
        assert_eq!(stats.in_flight_batches, 3, "{policy:?}");
        assert_eq!(seen.batches().len(), 3, "{policy:?}");
        for round in 0..20 {
            gate.open(1);
            tokio::time::sleep(Duration::from_millis(5)).await;
            let stats = batcher.stats();
            assert!(stats.in_flight_batches <= 3, "{policy:?} round {round}");
            assert_eq!(
                stats.batches as usize,
                seen.batches().len(),
                "{policy:?} round {round}"
            );
        }
        for (i, submission) in pending.into_iter().enumerate() {
            assert_eq!(submission.await, Ok(2 * i as u64), "{policy:?}");
        }
        // FIFO: the batches took the items in submission order.
        assert_eq!(seen.items(), (0..20).collect::<Vec<_>>(), "{policy:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn fixed_sends_an_overdue_batch_when_a_slot_frees() {
    let seen = Seen::default();
    let gate = Gate::closed();
    let max_wait = Duration::from_millis(10);
    let batcher = Batcher::builder(doubler(seen.clone(), Some(gate.clone())))
        .flush_policy(FlushPolicy::Fixed)
        .max_wait(max_wait)
        .max_concurrent_batches(1)
        .build()
        .unwrap();
    let start = Instant::now();
    let first = batcher.try_submit(1).unwrap();
    tokio::time::sleep(max_wait).await;
    settle().await;
    assert_eq!(seen.batches(), [vec![1]]);
    let second = batcher.try_submit(2).unwrap();
    // Overdue after another max_wait, but the only slot is busy.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(seen.batches().len(), 1);
    let freed_at = Instant::now();
    gate.open_all();
    assert_eq!(first.await, Ok(2));
    assert_eq!(second.await, Ok(4));
    assert_eq!(seen.times(), [start + max_wait, freed_at]);
    assert_eq!(batcher.stats().flushes.time, 2);
}
