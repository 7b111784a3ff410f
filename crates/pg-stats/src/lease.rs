//! A pooled connection lent to a [`StatsClient`](crate::StatsClient). When
//! the client is dropped the connection goes back to the pool — or, once it
//! has outlived `max_lifetime`, is closed right there, so the next caller
//! never pays for retiring it at checkout.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use deadpool::managed::Object;
use deadpool_postgres::ClientWrapper;

use crate::manager::{PoolCounters, StatsManager};

pub(crate) struct Lease {
    /// `Some` until the lease is dropped.
    object: Option<Object<StatsManager>>,
    counters: Arc<PoolCounters>,
    max_lifetime: Option<Duration>,
}

impl Lease {
    pub(crate) fn new(
        object: Object<StatsManager>,
        counters: Arc<PoolCounters>,
        max_lifetime: Option<Duration>,
    ) -> Self {
        Self {
            object: Some(object),
            counters,
            max_lifetime,
        }
    }
}

impl Deref for Lease {
    type Target = ClientWrapper;

    fn deref(&self) -> &ClientWrapper {
        match &self.object {
            Some(object) => object,
            // Only `drop` takes the object out.
            None => unreachable!("a lease is used after it was dropped"),
        }
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut ClientWrapper {
        match &mut self.object {
            Some(object) => object,
            None => unreachable!("a lease is used after it was dropped"),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(object) = self.object.take() else {
            return;
        };
        let age = Object::metrics(&object).age();
        if self.max_lifetime.is_some_and(|max| age >= max) {
            // Out of the pool for good: the connection closes as it drops.
            drop(Object::take(object));
            self.counters
                .closed_lifetime
                .fetch_add(1, Ordering::Relaxed);
            tracing::debug!(target: "perfect21_pg_stats::pool", ?age, "closed a connection past max_lifetime on its return");
        }
        // Otherwise `object` drops here and deadpool takes it back.
    }
}
