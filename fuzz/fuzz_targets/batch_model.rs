//! Arbitrary sequences of submits (waiting and non-waiting), cancellations
//! (dropping a submission, aborting a submitting task mid-flight), batch
//! failures and panics, time passing, shutdown, and the runtime itself
//! shutting down at an arbitrary point. Checks that every accepted item is
//! answered exactly once with its own output or its batch's error, that the
//! batch function sees each item at most once, and that the counters add
//! up: `submitted == completed + failed + cancelled + aborted`, nothing
//! queued or in flight, `outstanding() == 0`.

#![no_main]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use perfect21_batch::{BatchError, Batcher, FlushPolicy, Submission, TrySubmitError};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

#[derive(Arbitrary, Debug)]
enum Op {
    /// `submit` on a spawned task.
    Submit,
    /// `try_submit`, keeping the submission.
    TrySubmit,
    /// Drop the n-th kept submission.
    Drop(u8),
    /// Abort the n-th spawned submit.
    Abort(u8),
    /// Let tokio time pass (paused clock).
    Advance(u8),
    /// Let ready tasks run.
    Settle,
    /// Start a shutdown on its own task.
    Shutdown,
    /// Shut the runtime down (once): every task is dropped mid-flight.
    KillRuntime,
}

#[derive(Arbitrary, Debug)]
struct Input {
    fixed: bool,
    max_batch_size: u8,
    max_concurrent_batches: u8,
    queue_capacity: u8,
    max_wait_ms: u8,
    ops: Vec<Op>,
}

type Outcome = Result<u64, BatchError<String>>;

fn new_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
}

/// Polls `future` once: its outcome if it is already answered.
fn now<F: std::future::Future>(runtime: &Runtime, future: F) -> Option<F::Output> {
    runtime.block_on(async {
        tokio::select! {
            biased;
            output = future => Some(output),
            () = std::future::ready(()) => None,
        }
    })
}

fn settle(runtime: &Runtime) {
    runtime.block_on(async {
        for _ in 0..32 {
            tokio::task::yield_now().await;
        }
    });
}

/// The batch function panics on purpose (the batcher must contain it):
/// only that panic unwinds.
fn is_the_batch_functions_panic(info: &std::panic::PanicHookInfo<'_>) -> bool {
    info.payload().downcast_ref::<&str>().copied() == Some(PANIC_MESSAGE)
}

const PANIC_MESSAGE: &str = "a panicking batch";

fuzz_target!(|input: Input| {
    if input.ops.len() > 200 {
        return;
    }
    perfect21_fuzz::let_expected_panics_unwind(is_the_batch_functions_panic);
    let mut runtime = Some(new_runtime());
    let seen: Arc<Mutex<HashMap<u64, usize>>> = Arc::default();
    let recorder = Arc::clone(&seen);
    let handle = runtime.as_ref().expect("live").handle().clone();
    let batcher = {
        let _entered = handle.enter();
        Batcher::builder(move |items: Vec<u64>| {
            let mut seen = recorder.lock().expect("seen");
            for &item in &items {
                *seen.entry(item).or_default() += 1;
            }
            drop(seen);
            async move {
                let delay = items.iter().sum::<u64>() % 4;
                tokio::time::sleep(Duration::from_millis(delay)).await;
                if items.iter().any(|x| x % 11 == 10) {
                    std::panic::panic_any(PANIC_MESSAGE);
                }
                if items.iter().any(|x| x % 7 == 6) {
                    Err("a failing batch".to_string())
                } else {
                    Ok(items.into_iter().map(|x| 2 * x).collect())
                }
            }
        })
        .flush_policy(if input.fixed {
            FlushPolicy::Fixed
        } else {
            FlushPolicy::Eager
        })
        .max_batch_size(usize::from(input.max_batch_size % 5) + 1)
        .max_concurrent_batches(usize::from(input.max_concurrent_batches % 3) + 1)
        .queue_capacity(usize::from(input.queue_capacity % 6) + 1)
        .max_wait(Duration::from_millis(u64::from(input.max_wait_ms % 6)))
        .build()
        .expect("valid options")
    };
    let mut next = 0u64;
    let mut kept: Vec<(u64, Submission<u64, String>)> = Vec::new();
    let mut spawned: Vec<(u64, JoinHandle<Outcome>)> = Vec::new();
    let mut shutdowns = Vec::new();
    let mut killed = false;
    let mut refused = 0u64;
    for op in input.ops {
        match op {
            Op::Submit => {
                if let Some(rt) = &runtime {
                    spawned.push((next, rt.spawn(batcher.submit(next))));
                    next += 1;
                }
            }
            Op::TrySubmit => {
                let _entered = runtime.as_ref().map(|rt| rt.enter());
                match batcher.try_submit(next) {
                    Ok(submission) => kept.push((next, submission)),
                    Err(TrySubmitError::QueueFull(item) | TrySubmitError::Closed(item)) => {
                        assert_eq!(item, next);
                        refused += 1;
                    }
                    Err(other) => panic!("unexpected {other:?}"),
                }
                next += 1;
            }
            Op::Drop(n) if !kept.is_empty() => {
                let (_, submission) = kept.remove(usize::from(n) % kept.len());
                drop(submission);
            }
            Op::Abort(n) if !spawned.is_empty() => {
                let (_, task) = &spawned[usize::from(n) % spawned.len()];
                task.abort();
            }
            Op::Drop(_) | Op::Abort(_) => {}
            Op::Advance(ms) => {
                if let Some(rt) = &runtime {
                    let pause = Duration::from_millis(u64::from(ms % 8));
                    rt.block_on(async { tokio::time::sleep(pause).await });
                }
            }
            Op::Settle => {
                if let Some(rt) = &runtime {
                    settle(rt);
                }
            }
            Op::Shutdown => {
                if let Some(rt) = &runtime {
                    let batcher = batcher.clone();
                    shutdowns.push(rt.spawn(async move { batcher.shutdown().await }));
                }
            }
            Op::KillRuntime => {
                killed |= runtime.take().is_some();
            }
        }
    }
    // Close, then collect every outcome.
    let after = new_runtime();
    let mut dead_outcomes: Vec<(u64, Outcome)> = Vec::new();
    let stats_handle = batcher.clone();
    match &runtime {
        Some(rt) => rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(86_400), batcher.shutdown())
                .await
                .expect("shutdown stuck");
        }),
        None => {
            // Nothing can run any more: every accepted item must already
            // be answered, before any close.
            for (item, submission) in std::mem::take(&mut kept) {
                let outcome =
                    now(&after, submission).expect("a submission stranded by the dead runtime");
                assert_ne!(outcome, Err(BatchError::Closed), "accepted, then refused");
                dead_outcomes.push((item, outcome));
            }
            now(&after, batcher.shutdown()).expect("shutdown on a dead runtime is immediate");
        }
    }
    let mut outcomes = dead_outcomes;
    for (item, submission) in kept {
        let outcome = match &runtime {
            Some(rt) => rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(86_400), submission)
                    .await
                    .expect("a submission never answered")
            }),
            // Nothing can make progress any more: it must be answered now.
            None => now(&after, submission).expect("a submission never answered"),
        };
        assert_ne!(outcome, Err(BatchError::Closed), "accepted, then refused");
        outcomes.push((item, outcome));
    }
    for (item, task) in spawned {
        let joined = match &runtime {
            Some(rt) => rt.block_on(task),
            None => now(&after, task).expect("a dead runtime's task is answered"),
        };
        if let Ok(outcome) = joined {
            outcomes.push((item, outcome));
        }
    }
    if let Some(rt) = &runtime {
        for shutdown in shutdowns {
            rt.block_on(shutdown).expect("shutdown task");
        }
    }
    drop(runtime);
    let seen = seen.lock().expect("seen");
    for (item, count) in seen.iter() {
        assert_eq!(*count, 1, "item {item} sent {count} times");
    }
    for (item, outcome) in &outcomes {
        match outcome {
            Ok(output) => {
                assert_eq!(*output, 2 * item, "someone else's output");
                assert!(seen.contains_key(item));
            }
            Err(BatchError::Failed(_) | BatchError::Panicked { .. }) => {
                assert!(seen.contains_key(item))
            }
            Err(BatchError::Aborted) => assert!(killed, "aborted with a live runtime"),
            Err(BatchError::Closed) => assert!(!seen.contains_key(item), "refused yet sent"),
            Err(other) => panic!("item {item}: unexpected {other:?}"),
        }
    }
    let stats = stats_handle.stats();
    assert_eq!(
        (stats.queued_items, stats.in_flight_batches),
        (0, 0),
        "{stats:?}"
    );
    assert_eq!(stats.outstanding(), 0, "{stats:?}");
    assert_eq!(
        stats.submitted,
        stats.completed + stats.failed + stats.cancelled + stats.aborted,
        "{stats:?}"
    );
    assert!(stats.completed + stats.failed <= seen.len() as u64);
    assert!(stats.submitted + stats.rejected <= next);
    assert!(stats.rejected >= refused);
    if !killed {
        assert_eq!(stats.aborted, 0);
        assert_eq!(stats.completed + stats.failed, seen.len() as u64);
    }
});
