//! A deadpool manager around `deadpool_postgres::Manager` that times
//! connection set-up, retires connections past `max_lifetime` and counts why
//! connections close.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_postgres::ClientWrapper;
use parking_lot::Mutex;

use crate::latency::LatencyRecorder;

/// Pool-level counters, shared by the manager and the pool.
#[derive(Debug)]
pub(crate) struct PoolCounters {
    pub(crate) acquired: AtomicU64,
    pub(crate) acquire_timeouts: AtomicU64,
    pub(crate) acquire_errors: AtomicU64,
    pub(crate) acquire_cancelled: AtomicU64,
    pub(crate) acquire_wait: Mutex<LatencyRecorder>,
    pub(crate) created: AtomicU64,
    pub(crate) create_errors: AtomicU64,
    pub(crate) connect_time: Mutex<LatencyRecorder>,
    pub(crate) recycled: AtomicU64,
    pub(crate) closed_lifetime: AtomicU64,
    pub(crate) closed_broken: AtomicU64,
}

impl PoolCounters {
    pub(crate) fn new() -> Self {
        Self {
            acquired: AtomicU64::new(0),
            acquire_timeouts: AtomicU64::new(0),
            acquire_errors: AtomicU64::new(0),
            acquire_cancelled: AtomicU64::new(0),
            acquire_wait: Mutex::new(LatencyRecorder::new()),
            created: AtomicU64::new(0),
            create_errors: AtomicU64::new(0),
            connect_time: Mutex::new(LatencyRecorder::new()),
            recycled: AtomicU64::new(0),
            closed_lifetime: AtomicU64::new(0),
            closed_broken: AtomicU64::new(0),
        }
    }

    pub(crate) fn reset(&self) {
        for c in [
            &self.acquired,
            &self.acquire_timeouts,
            &self.acquire_errors,
            &self.acquire_cancelled,
            &self.created,
            &self.create_errors,
            &self.recycled,
            &self.closed_lifetime,
            &self.closed_broken,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.acquire_wait.lock().reset();
        self.connect_time.lock().reset();
    }
}

pub(crate) struct StatsManager {
    inner: deadpool_postgres::Manager,
    counters: Arc<PoolCounters>,
    max_lifetime: Option<Duration>,
}

impl std::fmt::Debug for StatsManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // deadpool_postgres::Manager's Debug shows the tokio_postgres::Config,
        // which redacts the password.
        f.debug_struct("StatsManager")
            .field("inner", &self.inner)
            .field("max_lifetime", &self.max_lifetime)
            .finish_non_exhaustive()
    }
}

impl StatsManager {
    pub(crate) fn new(
        inner: deadpool_postgres::Manager,
        counters: Arc<PoolCounters>,
        max_lifetime: Option<Duration>,
    ) -> Self {
        Self {
            inner,
            counters,
            max_lifetime,
        }
    }
}

impl managed::Manager for StatsManager {
    type Type = ClientWrapper;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<ClientWrapper, tokio_postgres::Error> {
        let start = Instant::now();
        let result = managed::Manager::create(&self.inner).await;
        match &result {
            Ok(_) => {
                self.counters.connect_time.lock().record(start.elapsed());
                self.counters.created.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.counters.create_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(target: "perfect21_pg_stats::pool", error = %e, "could not open a connection");
            }
        }
        result
    }

    async fn recycle(
        &self,
        client: &mut ClientWrapper,
        metrics: &Metrics,
    ) -> RecycleResult<tokio_postgres::Error> {
        if let Some(max) = self.max_lifetime
            && metrics.age() >= max
        {
            self.counters
                .closed_lifetime
                .fetch_add(1, Ordering::Relaxed);
            tracing::debug!(target: "perfect21_pg_stats::pool", age = ?metrics.age(), "retiring a connection past max_lifetime");
            return Err(RecycleError::message("connection reached max_lifetime"));
        }
        let result = managed::Manager::recycle(&self.inner, client, metrics).await;
        match &result {
            Ok(()) => self.counters.recycled.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.counters.closed_broken.fetch_add(1, Ordering::Relaxed),
        };
        result
    }

    fn detach(&self, client: &mut ClientWrapper) {
        managed::Manager::detach(&self.inner, client);
    }
}
