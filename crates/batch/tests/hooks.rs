//! A panic in any user hook — the batch function (creating or polling its
//! future), the keyed load function, its result's iterator, the key's
//! `Hash`, the value's `Clone`, the error's `Clone`, an output's or an
//! item's `Drop` — fails at most its own batch (or nothing): the batcher
//! stays usable, nothing hangs, and the counts stay exact.

mod support;

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use perfect21_batch::{BatchError, BatchStats, Batcher, FlushPolicy, KeyedBatcher};
use support::{Gate, settle, within_a_day};

/// Three items per batch, no waiting for time.
fn fixed<I, O, E, F, Fut>(batch_fn: F) -> Batcher<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
    F: Fn(Vec<I>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<O>, E>> + Send + 'static,
{
    Batcher::builder(batch_fn)
        .flush_policy(FlushPolicy::Fixed)
        .max_batch_size(3)
        .max_wait(Duration::from_secs(3600))
        .max_concurrent_batches(2)
        .build()
        .unwrap()
}

fn is_panicked<T: std::fmt::Debug, E: std::fmt::Debug>(outcome: &Result<T, BatchError<E>>) -> bool {
    matches!(outcome, Err(BatchError::Panicked { .. }))
}

/// Every count adds up and nothing is left in flight.
fn exact(stats: &BatchStats, completed: u64, failed: u64, panics: u64) {
    assert_eq!(
        (stats.completed, stats.failed, stats.failures.panic),
        (completed, failed, panics),
        "{stats:?}"
    );
    assert_eq!(stats.outstanding(), 0, "{stats:?}");
    assert_eq!(
        (stats.in_flight_batches, stats.queued_items),
        (0, 0),
        "{stats:?}"
    );
}

async fn three<I: Send + 'static, O: Send + 'static, E: Clone + Send + 'static>(
    batcher: &Batcher<I, O, E>,
    items: [I; 3],
) -> Vec<Result<O, BatchError<E>>> {
    let pending: Vec<_> = items
        .into_iter()
        .map(|i| batcher.try_submit(i).ok().unwrap())
        .collect();
    let mut outcomes = Vec::new();
    for submission in pending {
        outcomes.push(within_a_day(submission).await);
    }
    outcomes
}

#[tokio::test(start_paused = true)]
async fn batch_function_panicking_while_creating_its_future() {
    let batcher = fixed(|items: Vec<u64>| {
        assert!(!items.contains(&13), "refusing {items:?}");
        std::future::ready(Ok::<_, String>(items))
    });
    assert!(three(&batcher, [11, 12, 13]).await.iter().all(is_panicked));
    assert_eq!(three(&batcher, [1, 2, 3]).await, [Ok(1), Ok(2), Ok(3)]);
    exact(&batcher.stats(), 3, 3, 1);
}

#[tokio::test(start_paused = true)]
async fn batch_function_panicking_while_polled() {
    let batcher = fixed(|items: Vec<u64>| async move {
        tokio::task::yield_now().await;
        assert!(!items.contains(&13), "unlucky {items:?}");
        Ok::<_, String>(items)
    });
    assert!(three(&batcher, [11, 12, 13]).await.iter().all(is_panicked));
    assert_eq!(three(&batcher, [1, 2, 3]).await, [Ok(1), Ok(2), Ok(3)]);
    exact(&batcher.stats(), 3, 3, 1);
}

/// An error whose `Clone` panics (the batcher clones a batch's error once
/// per item but the last).
#[derive(Debug, PartialEq)]
struct FragileError;

impl Clone for FragileError {
    fn clone(&self) -> Self {
        panic!("FragileError::clone");
    }
}

#[tokio::test(start_paused = true)]
async fn error_clone_panicking() {
    let batcher = fixed(|items: Vec<u64>| async move {
        if items.contains(&13) {
            Err(FragileError)
        } else {
            Ok(items)
        }
    });
    let outcomes = three(&batcher, [11, 12, 13]).await;
    // Every caller gets an outcome: the error itself, or (where cloning it
    // panicked) a `Panicked` naming the clone.
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            Err(BatchError::Failed(FragileError)) | Err(BatchError::Panicked { .. })
        )),
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.last(),
        Some(&Err(BatchError::Failed(FragileError)))
    );
    assert_eq!(three(&batcher, [1, 2, 3]).await, [Ok(1), Ok(2), Ok(3)]);
    let stats = batcher.stats();
    assert_eq!(
        (stats.completed, stats.failed, stats.failures.error),
        (3, 3, 1)
    );
    assert_eq!(stats.outstanding(), 0);
    assert_eq!((stats.in_flight_batches, stats.queued_items), (0, 0));
}

/// An output whose `Drop` panics: dropped by the batcher when its caller
/// stopped waiting after dispatch.
struct FragileOutput(u64);

impl Drop for FragileOutput {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("FragileOutput::drop");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn output_drop_panicking() {
    let gate = Gate::closed();
    let held = gate.clone();
    let batcher = fixed(move |items: Vec<u64>| {
        let held = held.clone();
        async move {
            held.pass().await;
            Ok::<_, String>(items.into_iter().map(FragileOutput).collect())
        }
    });
    let pending: Vec<_> = (1..=3).map(|i| batcher.try_submit(i).unwrap()).collect();
    settle().await;
    let mut pending = pending.into_iter();
    drop(pending.next()); // stops waiting after dispatch
    gate.open_all();
    for (i, submission) in (2..).zip(pending) {
        let output = within_a_day(submission).await.unwrap();
        assert_eq!(output.0, i);
        std::mem::forget(output);
    }
    settle().await;
    let again = batcher.try_submit(4).unwrap();
    let more: Vec<_> = (5..=6).map(|i| batcher.try_submit(i).unwrap()).collect();
    std::mem::forget(within_a_day(again).await.unwrap());
    for submission in more {
        std::mem::forget(within_a_day(submission).await.unwrap());
    }
    exact(&batcher.stats(), 6, 0, 0);
}

/// An item whose `Drop` panics: dropped by the batcher when its caller
/// cancels before dispatch.
struct FragileItem(u64);

impl Drop for FragileItem {
    fn drop(&mut self) {
        if self.0 == 13 && !std::thread::panicking() {
            panic!("FragileItem::drop");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn item_drop_panicking_on_cancel() {
    let batcher = fixed(|items: Vec<FragileItem>| async move {
        Ok::<_, String>(items.iter().map(|item| item.0).collect())
    });
    let a = batcher.try_submit(FragileItem(1)).ok().unwrap();
    let cancelled = batcher.try_submit(FragileItem(13)).ok().unwrap();
    drop(cancelled); // must not panic into the caller's drop
    let b = batcher.try_submit(FragileItem(2)).ok().unwrap();
    let c = batcher.try_submit(FragileItem(3)).ok().unwrap();
    assert_eq!((a.await, b.await, c.await), (Ok(1), Ok(2), Ok(3)));
    let stats = batcher.stats();
    assert_eq!(
        (stats.submitted, stats.completed, stats.cancelled),
        (4, 3, 1)
    );
    exact(&stats, 3, 0, 0);
}

/// Keyed: the load function panics creating its future, or polling it.
#[tokio::test(start_paused = true)]
async fn load_function_panicking() {
    let batcher = KeyedBatcher::builder(|keys: Vec<u32>| {
        assert!(!keys.contains(&7), "refusing {keys:?}");
        async move {
            tokio::task::yield_now().await;
            assert!(!keys.contains(&13), "unlucky {keys:?}");
            Ok::<_, String>(keys.into_iter().map(|k| (k, k * 10)))
        }
    })
    .build()
    .unwrap();
    assert!(is_panicked(&within_a_day(batcher.load(7)).await));
    assert!(is_panicked(&within_a_day(batcher.load(13)).await));
    // The keys are not left "in flight": loading them again runs the load.
    assert!(is_panicked(&within_a_day(batcher.load(13)).await));
    assert_eq!(within_a_day(batcher.load(2)).await, Ok(Some(20)));
    exact(&batcher.stats(), 1, 3, 3);
}

/// Keyed: iterating the load function's result panics.
#[tokio::test(start_paused = true)]
async fn load_result_iterator_panicking() {
    let batcher = KeyedBatcher::builder(|keys: Vec<u32>| async move {
        Ok::<_, String>(keys.into_iter().map(|k| {
            assert_ne!(k, 13, "unlucky pair");
            (k, k * 10)
        }))
    })
    .build()
    .unwrap();
    assert!(is_panicked(&within_a_day(batcher.load(13)).await));
    assert_eq!(within_a_day(batcher.load(2)).await, Ok(Some(20)));
    exact(&batcher.stats(), 1, 1, 1);
}

/// A key whose `Hash` panics for one value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FragileKey(u32);

impl Hash for FragileKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        assert_ne!(self.0, 13, "FragileKey::hash");
        self.0.hash(state);
    }
}

#[tokio::test(start_paused = true)]
async fn key_hash_panicking() {
    let batcher = KeyedBatcher::builder(|keys: Vec<FragileKey>| async move {
        Ok::<_, String>(keys.into_iter().map(|k| (k.clone(), k.0 * 10)))
    })
    .build()
    .unwrap();
    assert!(is_panicked(
        &within_a_day(batcher.load(FragileKey(13))).await
    ));
    assert_eq!(
        within_a_day(batcher.load(FragileKey(2))).await,
        Ok(Some(20))
    );
    exact(&batcher.stats(), 1, 1, 1);
}

/// A value whose `Clone` panics: cloned for every request of a key but one.
#[derive(Debug, PartialEq)]
struct FragileValue(u32);

static CLONE_PANICS: AtomicBool = AtomicBool::new(true);

impl Clone for FragileValue {
    fn clone(&self) -> Self {
        assert!(!CLONE_PANICS.load(Ordering::SeqCst), "FragileValue::clone");
        Self(self.0)
    }
}

#[tokio::test(start_paused = true)]
async fn value_clone_panicking() {
    let loads = Arc::new(std::sync::Mutex::new(0));
    let counter = Arc::clone(&loads);
    let batcher = KeyedBatcher::builder(move |keys: Vec<u32>| {
        *counter.lock().unwrap() += 1;
        async move { Ok::<_, String>(keys.into_iter().map(|k| (k, FragileValue(k)))) }
    })
    .flush_policy(FlushPolicy::Fixed)
    .max_batch_size(2)
    .max_wait(Duration::from_secs(3600))
    .build()
    .unwrap();
    let (a, b) = tokio::join!(batcher.load(5), batcher.load(5));
    assert!(is_panicked(&a) && is_panicked(&b), "{a:?} {b:?}");
    CLONE_PANICS.store(false, Ordering::SeqCst);
    let (a, b) = tokio::join!(batcher.load(5), batcher.load(6));
    assert_eq!(
        (a, b),
        (Ok(Some(FragileValue(5))), Ok(Some(FragileValue(6))))
    );
    assert_eq!(*loads.lock().unwrap(), 2);
    exact(&batcher.stats(), 2, 2, 1);
}
