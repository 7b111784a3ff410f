//! Property: over random schedules of submits, non-waiting submits,
//! cancellations, time passing and closing, every item a caller handed in
//! gets exactly one outcome — its own output, its batch's failure, or a
//! refusal — the batch function sees each item at most once and never a
//! refused one, and the counters add up.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use perfect21_batch::{BatchError, Batcher, FlushPolicy, Submission, TrySubmitError};
use proptest::prelude::*;
use support::{settle, within_a_day};
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
enum Op {
    /// `submit` on a spawned task (may wait for room).
    Submit,
    /// `try_submit`, keeping the submission.
    TrySubmit,
    /// Abort the n-th spawned submit (mod their count).
    Abort(usize),
    /// Drop the n-th kept submission (mod their count).
    Drop(usize),
    /// Let time pass.
    Advance(u64),
    /// Let ready tasks run.
    Settle,
    /// Start a shutdown (on its own task).
    Shutdown,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Submit),
        4 => Just(Op::TrySubmit),
        1 => any::<usize>().prop_map(Op::Abort),
        1 => any::<usize>().prop_map(Op::Drop),
        2 => (0u64..8).prop_map(Op::Advance),
        2 => Just(Op::Settle),
        1 => Just(Op::Shutdown),
    ]
}

#[derive(Debug, Clone)]
struct Setup {
    policy: FlushPolicy,
    max_batch_size: usize,
    max_concurrent_batches: usize,
    queue_capacity: usize,
    max_wait_ms: u64,
    /// Close by dropping every handle instead of calling `shutdown`.
    close_by_drop: bool,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        prop_oneof![Just(FlushPolicy::Eager), Just(FlushPolicy::Fixed)],
        1usize..5,
        1usize..4,
        1usize..7,
        0u64..6,
        any::<bool>(),
    )
        .prop_map(
            |(policy, size, concurrent, capacity, wait, close_by_drop)| Setup {
                policy,
                max_batch_size: size,
                max_concurrent_batches: concurrent,
                queue_capacity: capacity,
                max_wait_ms: wait,
                close_by_drop,
            },
        )
}

/// Which batch (by call number) saw each item, and whether it failed.
type Seen = Arc<Mutex<HashMap<u64, Vec<(usize, bool)>>>>;

/// Batches running now, and the most ever running at once.
type Running = Arc<Mutex<(usize, usize)>>;

fn batcher(setup: &Setup, seen: &Seen, running: &Running) -> Batcher<u64, u64, String> {
    let seen = Arc::clone(seen);
    let running = Arc::clone(running);
    let calls = Arc::new(Mutex::new(0usize));
    Batcher::builder(move |items: Vec<u64>| {
        {
            let mut running = running.lock().unwrap();
            running.0 += 1;
            running.1 = running.1.max(running.0);
        }
        let running = Arc::clone(&running);
        let fails = items.iter().any(|x| x % 7 == 6);
        let call = {
            let mut calls = calls.lock().unwrap();
            *calls += 1;
            *calls
        };
        let mut seen = seen.lock().unwrap();
        for &item in &items {
            seen.entry(item).or_default().push((call, fails));
        }
        async move {
            let delay = items.iter().sum::<u64>() % 5;
            tokio::time::sleep(Duration::from_millis(delay)).await;
            running.lock().unwrap().0 -= 1;
            if fails {
                Err("a batch with a 6 mod 7".to_string())
            } else {
                Ok(items.into_iter().map(|x| 2 * x).collect())
            }
        }
    })
    .flush_policy(setup.policy)
    .max_batch_size(setup.max_batch_size)
    .max_concurrent_batches(setup.max_concurrent_batches)
    .queue_capacity(setup.queue_capacity)
    .max_wait(Duration::from_millis(setup.max_wait_ms))
    .build()
    .unwrap()
}

/// A submit running on its own task.
type Spawned = JoinHandle<Result<u64, BatchError<String>>>;

/// Checks one item's outcome against what the batch function saw.
fn check(
    item: u64,
    outcome: &Result<u64, BatchError<String>>,
    seen: &HashMap<u64, Vec<(usize, bool)>>,
) {
    let sightings = seen.get(&item).map(Vec::as_slice).unwrap_or(&[]);
    match outcome {
        Ok(output) => {
            assert_eq!(*output, 2 * item, "item {item}: someone else's output");
            assert!(
                matches!(sightings, [(_, false)]),
                "item {item}: {sightings:?}"
            );
        }
        Err(BatchError::Failed(_)) => {
            assert!(
                matches!(sightings, [(_, true)]),
                "item {item}: {sightings:?}"
            );
        }
        Err(BatchError::Closed) => assert!(sightings.is_empty(), "item {item} refused yet sent"),
        Err(other) => panic!("item {item}: unexpected {other:?}"),
    }
}

fn run(setup: Setup, ops: Vec<Op>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async move {
        let seen = Seen::default();
        let running = Running::default();
        let batcher = batcher(&setup, &seen, &running);
        let mut next_item = 0u64;
        let mut spawned: Vec<(u64, Spawned)> = Vec::new();
        let mut kept: Vec<(u64, Submission<u64, String>)> = Vec::new();
        let mut aborted: Vec<u64> = Vec::new();
        let mut dropped: Vec<u64> = Vec::new();
        let mut refused_now = 0u64;
        let mut closed = 0u64;
        let mut shutdowns = Vec::new();
        for op in ops {
            match op {
                Op::Submit => {
                    spawned.push((next_item, tokio::spawn(batcher.submit(next_item))));
                    next_item += 1;
                }
                Op::TrySubmit => {
                    match batcher.try_submit(next_item) {
                        Ok(submission) => kept.push((next_item, submission)),
                        Err(TrySubmitError::QueueFull(item)) => {
                            assert_eq!(item, next_item);
                            assert!(!batcher.is_closed());
                            refused_now += 1;
                        }
                        Err(TrySubmitError::Closed(item)) => {
                            assert_eq!(item, next_item);
                            assert!(batcher.is_closed());
                            refused_now += 1;
                        }
                        Err(other) => panic!("unexpected {other:?}"),
                    }
                    next_item += 1;
                }
                Op::Abort(n) if !spawned.is_empty() => {
                    let (item, task) = spawned.remove(n % spawned.len());
                    task.abort();
                    match task.await {
                        Ok(outcome) => {
                            closed += u64::from(outcome == Err(BatchError::Closed));
                            check(item, &outcome, &seen.lock().unwrap());
                        }
                        Err(error) => {
                            assert!(error.is_cancelled());
                            aborted.push(item);
                        }
                    }
                }
                Op::Drop(n) if !kept.is_empty() => {
                    let (item, submission) = kept.remove(n % kept.len());
                    drop(submission);
                    dropped.push(item);
                }
                Op::Abort(_) | Op::Drop(_) => {}
                Op::Advance(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                Op::Settle => settle().await,
                Op::Shutdown => {
                    let batcher = batcher.clone();
                    shutdowns.push(tokio::spawn(async move { batcher.shutdown().await }));
                }
            }
        }
        let stats_handle = batcher.clone();
        if setup.close_by_drop {
            drop(batcher);
        } else {
            within_a_day(batcher.shutdown()).await;
        }
        drop(stats_handle.clone());

        for (item, task) in spawned {
            let outcome = within_a_day(task).await.unwrap();
            closed += u64::from(outcome == Err(BatchError::Closed));
            check(item, &outcome, &seen.lock().unwrap());
        }
        for (item, submission) in kept {
            let outcome = within_a_day(submission).await;
            assert_ne!(outcome, Err(BatchError::Closed), "accepted, then refused");
            check(item, &outcome, &seen.lock().unwrap());
        }
        for shutdown in shutdowns {
            within_a_day(shutdown).await.unwrap();
        }
        within_a_day(stats_handle.shutdown()).await;

        let seen = seen.lock().unwrap();
        let mut batch_sizes: HashMap<usize, usize> = HashMap::new();
        for (item, sightings) in seen.iter() {
            assert_eq!(
                sightings.len(),
                1,
                "item {item} sent {} times",
                sightings.len()
            );
            *batch_sizes.entry(sightings[0].0).or_default() += 1;
        }
        assert!(batch_sizes.values().all(|&n| n <= setup.max_batch_size));
        let (now, most) = *running.lock().unwrap();
        assert_eq!(now, 0);
        assert!(
            most <= setup.max_concurrent_batches,
            "{most} batches at once"
        );
        let dropped_unseen = dropped.iter().filter(|i| !seen.contains_key(i)).count() as u64;
        let aborted_unseen = aborted.iter().filter(|i| !seen.contains_key(i)).count() as u64;
        let stats = stats_handle.stats();
        assert_eq!((stats.queued_items, stats.in_flight_batches), (0, 0));
        assert_eq!(
            stats.submitted,
            stats.completed + stats.failed + stats.cancelled,
            "{stats:?}"
        );
        assert_eq!(stats.completed + stats.failed, seen.len() as u64);
        assert!(stats.cancelled >= dropped_unseen);
        assert!(stats.cancelled <= dropped_unseen + aborted_unseen);
        assert_eq!(stats.rejected, refused_now + closed);
        assert!(stats.submitted + stats.rejected <= next_item);
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_submitted_item_gets_exactly_one_outcome(
        setup in setup(),
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        run(setup, ops);
    }
}
