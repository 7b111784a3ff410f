//! [`KeyedBatcher`]: a batcher for lookups by key, which loads each
//! distinct key of a batch once.

use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use crate::batcher::Batcher;
use crate::builder::{BatcherBuilder, KeyedBatcherBuilder};
use crate::error::{BatchError, TrySubmitError};
use crate::flights::Flights;
use crate::load::load_batch;
use crate::stats::{BatchStats, Counters};
use crate::submission::Submission;

/// A batcher for lookups by key (a DataLoader).
///
/// The load function gets the distinct keys of a batch and returns what it
/// found as `(key, value)` pairs — a `HashMap<K, V>`, a `Vec<(K, V)>`, any
/// `IntoIterator<Item = (K, V)>`. Callers who asked for the same key in the
/// same batch share one load (each gets a clone of the value), and a batch
/// whose key another batch in flight is already loading joins that load
/// instead of loading the key again; if that load fails or is lost, the
/// joining batch loads the key itself.
///
/// **A key missing from the result is `Ok(None)`**: "not found" is an
/// answer, not a failure — the way `MGET` answers `nil` and
/// `WHERE id = ANY($1)` returns no row. Pairs for keys nobody asked for are
/// ignored. Everything else — queueing, flush policy, backpressure,
/// cancellation, shutdown, stats — is [`Batcher`]'s.
pub struct KeyedBatcher<K, V, E>
where
    K: Send + 'static,
    V: Send + 'static,
    E: Clone + Send + 'static,
{
    inner: Batcher<K, Option<V>, E>,
}

impl<K, V, E> KeyedBatcher<K, V, E>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    /// A builder around `load_fn`, which gets each batch's distinct keys (in
    /// order of first request) and returns the pairs it found.
    pub fn builder<F, Fut, R>(load_fn: F) -> KeyedBatcherBuilder<K, V, E>
    where
        F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: IntoIterator<Item = (K, V)> + 'static,
    {
        let counters = Arc::new(Counters::default());
        let writer = Arc::clone(&counters);
        let flights = Arc::new(Flights::new());
        let load_fn = Arc::new(load_fn);
        BatcherBuilder::new(
            Box::new(move |keys| {
                Box::pin(load_batch(
                    keys,
                    Arc::clone(&load_fn),
                    Arc::clone(&flights),
                    Arc::clone(&writer),
                ))
            }),
            counters,
        )
    }

    /// Loads `key` in the next batch and resolves to its value, or
    /// `Ok(None)` if the load function did not return it. Waits for room
    /// like [`Batcher::submit`]; dropping the future before dispatch removes
    /// the request.
    pub fn load(
        &self,
        key: K,
    ) -> impl Future<Output = Result<Option<V>, BatchError<E>>> + Send + use<K, V, E> {
        self.inner.submit(key)
    }

    /// Queues a load without waiting, or hands the key back (see
    /// [`Batcher::try_submit`]).
    pub fn try_load(&self, key: K) -> Result<Submission<Option<V>, E>, TrySubmitError<K>> {
        self.inner.try_submit(key)
    }

    /// See [`Batcher::shutdown`].
    pub async fn shutdown(&self) {
        self.inner.shutdown().await;
    }

    /// Whether the batcher has stopped accepting requests.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// A snapshot of the counters; `deduplicated` counts the requests that
    /// shared another request's load, `joined` those of them that shared a
    /// load of another batch in flight.
    pub fn stats(&self) -> BatchStats {
        self.inner.stats()
    }

    /// The name given to the builder.
    pub fn name(&self) -> &str {
        self.inner.name()
    }
}

impl<K, V, E> KeyedBatcher<K, V, E>
where
    K: Send + 'static,
    V: Send + 'static,
    E: Clone + Send + 'static,
{
    pub(crate) fn from_batcher(inner: Batcher<K, Option<V>, E>) -> Self {
        Self { inner }
    }
}

impl<K, V, E> Clone for KeyedBatcher<K, V, E>
where
    K: Send + 'static,
    V: Send + 'static,
    E: Clone + Send + 'static,
{
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V, E> fmt::Debug for KeyedBatcher<K, V, E>
where
    K: Send + 'static,
    V: Send + 'static,
    E: Clone + Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("KeyedBatcher").field(&self.inner).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::Relaxed;

    use super::*;

    #[tokio::test]
    async fn the_snapshot_reports_the_batchers_own_deduplicated_counter() {
        // One counter, written where the duplicates are found and read by
        // the snapshot: nothing else overrides it.
        let keyed = KeyedBatcher::builder(|keys: Vec<u8>| async move {
            Ok::<_, ()>(keys.into_iter().map(|k| (k, k)))
        })
        .build()
        .unwrap();
        let (a, b) = tokio::join!(keyed.load(1), keyed.load(1));
        assert_eq!((a, b), (Ok(Some(1)), Ok(Some(1))));
        let counters = &keyed.inner.shared().counters;
        assert_eq!(
            counters.deduplicated.load(Relaxed),
            keyed.stats().deduplicated
        );
        counters.deduplicated.fetch_add(5, Relaxed);
        assert_eq!(
            keyed.stats().deduplicated,
            counters.deduplicated.load(Relaxed)
        );
    }
}
