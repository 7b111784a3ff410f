//! A caller who stops waiting before dispatch takes its item out of the
//! queue — the batch function never sees it and the room is given back;
//! after dispatch its output is simply discarded.

mod support;

use std::time::Duration;

use perfect21_batch::{Batcher, FlushPolicy};
use support::{Gate, Seen, doubler, settle, within_a_day};

fn fixed(seen: &Seen, gate: Option<Gate>) -> Batcher<u64, u64, String> {
    Batcher::builder(doubler(seen.clone(), gate))
        .flush_policy(FlushPolicy::Fixed)
        .max_wait(Duration::from_millis(10))
        .queue_capacity(3)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_dropped_submission_never_reaches_the_batch_function() {
    let seen = Seen::default();
    let batcher = fixed(&seen, None);
    let a = batcher.try_submit(1).unwrap();
    let b = batcher.try_submit(2).unwrap();
    let c = batcher.try_submit(3).unwrap();
    drop(b);
    let stats = batcher.stats();
    assert_eq!((stats.queued_items, stats.cancelled), (2, 1));
    assert_eq!(a.await, Ok(2));
    assert_eq!(c.await, Ok(6));
    assert_eq!(seen.batches(), [vec![1, 3]]);
    let stats = batcher.stats();
    assert_eq!(
        (stats.submitted, stats.completed, stats.cancelled),
        (3, 2, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn an_aborted_submitting_task_removes_its_item() {
    let seen = Seen::default();
    let batcher = fixed(&seen, None);
    let keep = tokio::spawn(batcher.submit(1));
    let abandon = tokio::spawn(batcher.submit(2));
    settle().await;
    assert_eq!(batcher.stats().queued_items, 2);
    abandon.abort();
    assert!(abandon.await.unwrap_err().is_cancelled());
    assert_eq!(batcher.stats().queued_items, 1);
    assert_eq!(keep.await.unwrap(), Ok(2));
    assert_eq!(seen.items(), [1]);
}

#[tokio::test(start_paused = true)]
async fn cancelling_gives_the_room_back() {
    let seen = Seen::default();
    let batcher = fixed(&seen, None);
    let pending: Vec<_> = (0..3).map(|i| batcher.try_submit(i).unwrap()).collect();
    assert!(batcher.try_submit(3).is_err(), "full");
    drop(pending);
    let again: Vec<_> = (10..13).map(|i| batcher.try_submit(i).unwrap()).collect();
    for (i, submission) in (10..).zip(again) {
        assert_eq!(submission.await, Ok(2 * i));
    }
    assert_eq!(seen.items(), [10, 11, 12]);
    assert_eq!(batcher.stats().cancelled, 3);
}

#[tokio::test(start_paused = true)]
async fn dropping_after_dispatch_discards_the_output_only() {
    let (seen, gate) = (Seen::default(), Gate::closed());
    let batcher = fixed(&seen, Some(gate.clone()));
    let a = batcher.try_submit(1).unwrap();
    let b = batcher.try_submit(2).unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    settle().await;
    assert_eq!(seen.batches(), [vec![1, 2]], "dispatched");
    drop(a);
    gate.open_all();
    assert_eq!(b.await, Ok(4));
    let stats = batcher.stats();
    assert_eq!((stats.cancelled, stats.completed), (0, 2));
}

#[tokio::test(start_paused = true)]
async fn a_submitter_that_stops_waiting_mid_batch_does_not_stall_the_others() {
    // The third submit fills the batch and runs it on its own task; that
    // task is aborted while the batch is in flight.
    let (seen, gate) = (Seen::default(), Gate::closed());
    let batcher = Batcher::builder(doubler(seen.clone(), Some(gate.clone())))
        .flush_policy(FlushPolicy::Fixed)
        .max_wait(Duration::from_secs(3600))
        .max_batch_size(3)
        .build()
        .unwrap();
    let a = batcher.try_submit(1).unwrap();
    let b = batcher.try_submit(2).unwrap();
    let leader = tokio::spawn(batcher.submit(3));
    settle().await;
    assert_eq!(seen.batches(), [vec![1, 2, 3]]);
    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    gate.open_all();
    assert_eq!(within_a_day(a).await, Ok(2));
    assert_eq!(within_a_day(b).await, Ok(4));
    settle().await;
    let stats = batcher.stats();
    assert_eq!((stats.completed, stats.in_flight_batches), (3, 0));
}
