//! loom models of the queue protocol: every interleaving (up to
//! `LOOM_MAX_PREEMPTIONS`) of a submit, a cancellation, a finishing batch
//! and a close, on the real `Shared` code with loom's mutex. Each model
//! checks that every submitted item ends in exactly one place — a batch,
//! the cancelled count, the queue — and that the room and slot counts
//! agree with it.
//!
//! tokio's primitives (the room semaphore, reply channels, the drain
//! `Notify`, task spawning) are not loom-aware: they run for real but loom
//! does not interleave inside them. The hand-written part — the state
//! under the lock and the decisions taken from it — is what is modelled.
//!
//! Run: `RUSTFLAGS="--cfg perfect21_loom" LOOM_MAX_PREEMPTIONS=2
//! cargo test -p perfect21-batch --release --lib loom_tests`.

use std::sync::Arc;

use loom::thread;
use tokio::runtime::Runtime;

use crate::config::Config;
use crate::shared::{Batch, BatchFn, Queued, Shared};
use crate::stats::Counters;
use crate::submission::Cancel;

const CAPACITY: usize = 8;

type TestShared = Shared<u64, u64, ()>;

/// A runtime that is never driven: batches launched on it never run, and
/// are dropped (aborted, releasing their slots) when it is dropped.
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

fn shared(runtime: &Runtime, max_concurrent_batches: usize) -> Arc<TestShared> {
    let config = Config {
        max_concurrent_batches,
        max_batch_size: 4,
        queue_capacity: CAPACITY,
        ..Config::default()
    };
    let batch_fn: BatchFn<u64, u64, ()> = Box::new(|items| Box::pin(async move { Ok(items) }));
    Arc::new(Shared::new(
        config,
        batch_fn,
        Arc::new(Counters::default()),
        runtime.handle().clone(),
    ))
}

/// `try_submit` without the public handle: a room permit, then the queue.
fn submit(shared: &Arc<TestShared>, item: u64) -> Option<Queued<u64, u64, ()>> {
    shared.room.try_acquire().ok()?.forget();
    match shared.enqueue(item) {
        Ok(queued) => Some(queued),
        Err(_closed) => {
            shared.room.add_permits(1);
            None
        }
    }
}

fn items(batch: &Batch<u64, u64, ()>) -> Vec<u64> {
    batch.entries.iter().map(|entry| entry.item).collect()
}

/// A batcher with one slot, taken by item 0's batch (returned, still held).
fn one_slot_taken(runtime: &Runtime) -> (Arc<TestShared>, Batch<u64, u64, ()>) {
    let shared = shared(runtime, 1);
    let first = submit(&shared, 0)
        .and_then(|q| q.ready)
        .expect("0 goes out");
    (shared, first)
}

/// Marks a held batch as run (so dropping it counts nothing as aborted).
fn ran(mut batch: Batch<u64, u64, ()>) {
    batch.entries.clear();
}

#[test]
fn submit_vs_cancel() {
    loom::model(|| {
        let runtime = runtime();
        // Item 0 takes the only slot; item 1 waits behind it.
        let (shared, first) = one_slot_taken(&runtime);
        let waiting = submit(&shared, 1).expect("room for 1");
        assert!(waiting.ready.is_none());
        let id = waiting.ticket.id;
        let submitter = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || submit(&shared, 2).map(|q| q.ready.is_none()))
        };
        let canceller = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || shared.cancel(id))
        };
        assert_eq!(
            submitter.join().expect("submitter"),
            Some(true),
            "2 waits for the slot"
        );
        canceller.join().expect("canceller");
        ran(first);
        let next = shared.finish().expect("2 goes out when the slot frees");
        assert_eq!(items(&next), [2], "1 was cancelled, 2 was not lost");
        ran(next);
        assert!(shared.finish().is_none());
        let stats = shared.stats();
        assert_eq!(
            (stats.submitted, stats.cancelled, stats.queued_items),
            (3, 1, 0)
        );
        assert_eq!(stats.in_flight_batches, 0);
        assert_eq!(
            shared.room.available_permits(),
            CAPACITY,
            "all room given back"
        );
    });
}

#[test]
fn cancel_vs_flush() {
    loom::model(|| {
        let runtime = runtime();
        let (shared, first) = one_slot_taken(&runtime);
        let waiting = submit(&shared, 1).expect("room for 1");
        let id = waiting.ticket.id;
        let canceller = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || shared.cancel(id))
        };
        // The running batch finishes while 1 is being cancelled.
        ran(first);
        let next = shared.finish();
        canceller.join().expect("canceller");
        let stats = shared.stats();
        match next {
            Some(batch) => {
                // Flushed first: the cancellation found nothing to remove.
                assert_eq!(items(&batch), [1]);
                assert_eq!((stats.cancelled, stats.in_flight_batches), (0, 1));
                ran(batch);
                assert!(shared.finish().is_none());
            }
            None => {
                // Cancelled first: nothing left to flush.
                assert_eq!((stats.cancelled, stats.in_flight_batches), (1, 0));
            }
        }
        assert_eq!(shared.stats().queued_items, 0);
        assert_eq!(shared.room.available_permits(), CAPACITY);
    });
}

#[test]
fn shutdown_vs_submit() {
    loom::model(|| {
        let runtime = runtime();
        // One slot, taken: an accepted item waits in the queue.
        let (shared, first) = one_slot_taken(&runtime);
        let submitter = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || submit(&shared, 1).map(|q| q.ready.is_none()))
        };
        let closer = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || shared.close())
        };
        let accepted = submitter.join().expect("submitter");
        closer.join().expect("closer");
        assert!(shared.is_closed());
        assert!(accepted.is_none_or(|queued| queued), "no slot was free");
        let stats = shared.stats();
        assert_eq!(stats.submitted, 1 + u64::from(accepted.is_some()));
        // A submit after the close is refused, and gives its room back.
        assert!(submit(&shared, 2).is_none());
        // An accepted item is never stranded: when the slot frees it goes
        // out at once, as a shutdown flush.
        ran(first);
        match shared.finish() {
            Some(batch) => {
                assert!(accepted.is_some());
                assert_eq!(items(&batch), [1]);
                assert_eq!(batch.reason, crate::policy::FlushReason::Shutdown);
                ran(batch);
                assert!(shared.finish().is_none());
            }
            None => assert!(accepted.is_none(), "accepted, then stranded"),
        }
        let stats = shared.stats();
        assert_eq!((stats.queued_items, stats.in_flight_batches), (0, 0));
        assert_eq!(stats.aborted, 0);
        assert_eq!(shared.room.available_permits(), CAPACITY);
        drop(runtime);
    });
}
