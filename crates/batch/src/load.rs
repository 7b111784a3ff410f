//! The keyed form's batch function: plan the batch's distinct keys, join
//! those another batch in flight is loading, load the rest, and answer
//! every request from one value per key.

use std::any::Any;
use std::future::Future;
use std::hash::Hash;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use crate::flights::{Claim, Flights, Leading};
use crate::plan::Plan;
use crate::stats::Counters;

/// One keyed batch: one answer per request, in request order.
pub(crate) async fn load_batch<K, V, E, F, Fut, R>(
    keys: Vec<K>,
    load_fn: Arc<F>,
    flights: Arc<Flights<K, V>>,
    counters: Arc<Counters>,
) -> Result<Vec<Option<V>>, E>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + 'static,
    F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    R: IntoIterator<Item = (K, V)> + 'static,
{
    let plan = Plan::new(keys);
    let Claim { lead, joins } = flights.claim(&plan.unique);
    let led = lead.indexes.clone();
    // The batch's own load and its joins run at once; the own load lands
    // (waking whoever joined it) as soon as it is done.
    let own = lead_flight(lead, Arc::clone(&load_fn));
    let joined = async move {
        let mut got = Vec::new();
        let mut orphans = Vec::new();
        for (index, key, mut signal) in joins {
            let landed = signal
                .wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|landed| landed.clone());
            match landed {
                Some(landed) => {
                    let value = landed.lock().get(&key).cloned().flatten();
                    got.push((index, value));
                }
                // The leader ended without landing: load it ourselves.
                None => orphans.push((index, key)),
            }
        }
        (got, orphans)
    };
    let (own, (got, orphans)) = tokio::join!(own, joined);
    let own = own?;
    let mut values: Vec<Option<V>> = (0..plan.unique.len()).map(|_| None).collect();
    {
        let own = own.lock();
        for &index in &led {
            if let (Some(slot), Some(key)) = (values.get_mut(index), plan.unique.get(index)) {
                *slot = own.get(key).cloned().flatten();
            }
        }
    }
    let requests = plan.requests_per_key();
    let (joined_keys, mut joined_requests) = (got.len(), 0);
    for (index, value) in got {
        joined_requests += requests.get(index).copied().unwrap_or(0);
        if let Some(slot) = values.get_mut(index) {
            *slot = value;
        }
    }
    if !orphans.is_empty() {
        let (indexes, keys): (Vec<usize>, Vec<K>) = orphans.into_iter().unzip();
        let mut reloaded = vec![false; plan.unique.len()];
        for &index in &indexes {
            if let Some(flag) = reloaded.get_mut(index) {
                *flag = true;
            }
        }
        for (key, value) in load_fn(keys).await? {
            if let Some(&index) = plan.slots.get(&key)
                && reloaded.get(index).copied().unwrap_or(false)
                && let Some(slot) = values.get_mut(index)
            {
                *slot = Some(value);
            }
        }
    }
    // Counted once the batch is answered: a request is de-duplicated if
    // another request's load answered it, in its batch or in another.
    // (The other requests for a joined key are duplicates in its batch.)
    Counters::add(&counters.deduplicated, plan.duplicates() + joined_keys);
    Counters::add(&counters.joined, joined_requests);
    Ok(plan.route(&values))
}

/// Loads the keys this batch leads and lands the flight. A panic in the
/// user's load function is caught here first, so the flight is cleaned up
/// outside the unwind, then passed on (the batcher reports it).
async fn lead_flight<K, V, E, F, Fut, R>(
    lead: Leading<K, V>,
    load_fn: Arc<F>,
) -> Result<Arc<crate::flights::Landed<K, V>>, E>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + 'static,
    F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    R: IntoIterator<Item = (K, V)> + 'static,
{
    if lead.keys.is_empty() {
        return Ok(lead.land(std::iter::empty()));
    }
    let keys = lead.keys.clone();
    let found = match catch_unwind(AssertUnwindSafe(|| load_fn(keys))) {
        Ok(future) => caught(future).await,
        Err(payload) => Err(payload),
    };
    match found {
        Ok(Ok(found)) => Ok(lead.land(found)),
        Ok(Err(error)) => {
            drop(lead);
            Err(error)
        }
        Err(payload) => {
            drop(lead);
            resume_unwind(payload)
        }
    }
}

/// Awaits `future`, turning a panic while polling it into `Err(payload)`.
async fn caught<T>(future: impl Future<Output = T>) -> Result<T, Box<dyn Any + Send>> {
    let mut future = pin!(future);
    std::future::poll_fn(move |cx| {
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_or_failing_load_leaves_no_key_in_flight() {
        let flights = Arc::new(Flights::<u32, u32>::new());
        let counters = Arc::new(Counters::default());
        let load = Arc::new(|keys: Vec<u32>| {
            assert!(!keys.contains(&7), "refusing {keys:?}");
            async move {
                assert!(!keys.contains(&13), "unlucky {keys:?}");
                if keys.contains(&666) {
                    return Err(());
                }
                Ok(keys.into_iter().map(|k| (k, k)))
            }
        });
        let run = |keys: Vec<u32>| {
            load_batch(
                keys,
                Arc::clone(&load),
                Arc::clone(&flights),
                Arc::clone(&counters),
            )
        };
        assert!(
            caught(run(vec![1, 7])).await.is_err(),
            "panics creating the future"
        );
        assert_eq!(flights.len(), 0);
        assert!(caught(run(vec![1, 13])).await.is_err(), "panics polling it");
        assert_eq!(flights.len(), 0);
        assert_eq!(run(vec![2, 666]).await, Err(()));
        assert_eq!(flights.len(), 0);
        assert_eq!(run(vec![3, 3]).await, Ok(vec![Some(3), Some(3)]));
        assert_eq!(flights.len(), 0);
        assert_eq!(
            counters
                .deduplicated
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
    }
}
