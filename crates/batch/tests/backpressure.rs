//! A full queue pushes back: `submit` waits (asynchronously) for room and
//! proceeds when a batch takes items out; `try_submit` hands the item back.

mod support;

use std::time::Duration;

use perfect21_batch::{Batcher, TrySubmitError};
use support::{Gate, Seen, doubler, settle};

/// One slot held by a gated batch, room for 3 more items in the queue.
fn held_batcher(seen: &Seen, gate: &Gate) -> Batcher<u64, u64, String> {
    Batcher::builder(doubler(seen.clone(), Some(gate.clone())))
        .max_concurrent_batches(1)
        .max_batch_size(2)
        .queue_capacity(3)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn try_submit_hands_the_item_back_when_the_queue_is_full() {
    let (seen, gate) = (Seen::default(), Gate::closed());
    let batcher = held_batcher(&seen, &gate);
    let in_flight = batcher.try_submit(0).unwrap();
    let queued: Vec<_> = (1..=3).map(|i| batcher.try_submit(i).unwrap()).collect();
    match batcher.try_submit(4) {
        Err(TrySubmitError::QueueFull(item)) => assert_eq!(item, 4),
        other => panic!("expected QueueFull, got {other:?}"),
    }
    let stats = batcher.stats();
    assert_eq!(
        (stats.queued_items, stats.rejected, stats.submitted),
        (3, 1, 4)
    );
    gate.open_all();
    assert_eq!(in_flight.await, Ok(0));
    for (i, submission) in (1..=3).zip(queued) {
        assert_eq!(submission.await, Ok(2 * i));
    }
    // Room again.
    assert_eq!(batcher.try_submit(4).unwrap().await, Ok(8));
    assert!(!seen.items().contains(&99));
}

#[tokio::test(start_paused = true)]
async fn submit_waits_for_room_and_goes_on_when_a_batch_takes_items() {
    let (seen, gate) = (Seen::default(), Gate::closed());
    let batcher = held_batcher(&seen, &gate);
    let in_flight = batcher.try_submit(0).unwrap();
    let queued: Vec<_> = (1..=3).map(|i| batcher.try_submit(i).unwrap()).collect();
    let waiting = tokio::spawn(batcher.submit(4));
    // Time can pass: the submitter stays blocked, not queued, not refused.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(!waiting.is_finished());
    let stats = batcher.stats();
    assert_eq!(
        (stats.queued_items, stats.submitted, stats.rejected),
        (3, 4, 0)
    );
    // The running batch finishes; the next one takes 2 items out of the
    // queue, which lets the waiting submitter in.
    gate.open(1);
    assert_eq!(in_flight.await, Ok(0));
    settle().await;
    let stats = batcher.stats();
    assert_eq!((stats.submitted, stats.queued_items), (5, 2));
    gate.open_all();
    for (i, submission) in (1..=3).zip(queued) {
        assert_eq!(submission.await, Ok(2 * i));
    }
    assert_eq!(waiting.await.unwrap(), Ok(8));
    assert_eq!(seen.batches(), [vec![0], vec![1, 2], vec![3, 4]]);
}

#[tokio::test(start_paused = true)]
async fn waiting_submitters_are_served_in_arrival_order() {
    let (seen, gate) = (Seen::default(), Gate::closed());
    let batcher = held_batcher(&seen, &gate);
    let mut all = vec![tokio::spawn(batcher.submit(0))];
    for i in 1..=9 {
        all.push(tokio::spawn(batcher.submit(i)));
        settle().await;
    }
    gate.open_all();
    for (i, task) in (0..).zip(all) {
        assert_eq!(task.await.unwrap(), Ok(2 * i));
    }
    assert_eq!(seen.items(), (0..=9).collect::<Vec<_>>());
}
