//! Shared pieces of the integration tests: a batch function that records
//! every batch it sees, and a gate that holds batches in flight until the
//! test lets them finish.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tokio::time::Instant;

/// A boxed batch-function future.
pub type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// One batch as the batch function saw it: when, and its items.
type Call = (Instant, Vec<u64>);

/// Every batch a batch function saw, with the (tokio) time it was called.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Vec<Call>>>);

impl Seen {
    pub fn record(&self, items: &[u64]) {
        self.0
            .lock()
            .unwrap()
            .push((Instant::now(), items.to_vec()));
    }

    /// The batches, in call order.
    pub fn batches(&self) -> Vec<Vec<u64>> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// When each batch was called.
    pub fn times(&self) -> Vec<Instant> {
        self.0.lock().unwrap().iter().map(|(t, _)| *t).collect()
    }

    /// Every item seen, in call order.
    pub fn items(&self) -> Vec<u64> {
        self.batches().into_iter().flatten().collect()
    }
}

/// Holds batches in flight: each batch takes one permit before returning.
#[derive(Clone)]
pub struct Gate(Arc<Semaphore>);

impl Gate {
    pub fn closed() -> Self {
        Self(Arc::new(Semaphore::new(0)))
    }

    /// Lets `n` more batches finish.
    pub fn open(&self, n: usize) {
        self.0.add_permits(n);
    }

    /// Lets every batch finish from now on.
    pub fn open_all(&self) {
        self.0.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    pub async fn pass(&self) {
        self.0.acquire().await.unwrap().forget();
    }
}

/// A batch function that records each batch and answers `2 * item`,
/// finishing only when `gate` (if any) lets it.
pub fn doubler(
    seen: Seen,
    gate: Option<Gate>,
) -> impl Fn(Vec<u64>) -> BoxFut<Result<Vec<u64>, String>> + Send + Sync + 'static {
    move |items: Vec<u64>| {
        seen.record(&items);
        let gate = gate.clone();
        Box::pin(async move {
            if let Some(gate) = gate {
                gate.pass().await;
            }
            Ok(items.into_iter().map(|x| 2 * x).collect())
        })
    }
}

/// Lets every ready task of the current-thread runtime run until they all
/// wait on something (bounded: 64 rounds of yielding).
pub async fn settle() {
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
}

/// Awaits `future`, failing the test if it is still pending after a day of
/// tokio time. Under a paused clock a stuck future fails at once (the
/// clock jumps to the deadline when nothing else can run) instead of
/// hanging the test.
pub async fn within_a_day<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(std::time::Duration::from_secs(86_400), future)
        .await
        .expect("still pending after a day: stuck")
}
