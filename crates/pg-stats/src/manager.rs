//! A deadpool manager around `deadpool_postgres::Manager` that times
//! connection set-up and the recycle check (apart from the wait for a
//! connection), retires connections past `max_lifetime` and counts why
//! connections close.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_postgres::ClientWrapper;
use parking_lot::Mutex;

use crate::acquire::spend;
use crate::clock::Instant;
use crate::latency::LatencyRecorder;

/// Pool-level counters, shared by the manager and the pool.
#[derive(Debug)]
pub(crate) struct PoolCounters {
    pub(crate) acquired: AtomicU64,
    pub(crate) acquire_timeouts: AtomicU64,
    pub(crate) acquire_errors: AtomicU64,
    pub(crate) acquire_cancelled: AtomicU64,
    pub(crate) acquire_wait: Mutex<LatencyRecorder>,
    pub(crate) acquire_time: Mutex<LatencyRecorder>,
    pub(crate) created: AtomicU64,
    pub(crate) create_errors: AtomicU64,
    pub(crate) connect_time: Mutex<LatencyRecorder>,
    pub(crate) recycled: AtomicU64,
    pub(crate) recycle_check: Mutex<LatencyRecorder>,
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
            acquire_time: Mutex::new(LatencyRecorder::new()),
            created: AtomicU64::new(0),
            create_errors: AtomicU64::new(0),
            connect_time: Mutex::new(LatencyRecorder::new()),
            recycled: AtomicU64::new(0),
            recycle_check: Mutex::new(LatencyRecorder::new()),
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
        for h in [
            &self.acquire_wait,
            &self.acquire_time,
            &self.connect_time,
            &self.recycle_check,
        ] {
            h.lock().reset();
        }
    }
}

/// Which part of a `get()` a [`Phase`] times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhaseKind {
    Connect,
    Recycle,
}

/// A connect or a recycle check in progress: its time is credited to the
/// `get()` that runs it (so it is not counted as waiting) and recorded in
/// its own histogram. Dropped unfinished — deadpool's create or recycle
/// timeout ran out, or the caller abandoned the `get()` — it still counts:
/// a connect as a failed attempt, a check as a failed check (deadpool
/// discards that connection).
struct Phase<'a> {
    counters: &'a PoolCounters,
    kind: PhaseKind,
    start: Instant,
    ended: bool,
}

impl<'a> Phase<'a> {
    fn start(counters: &'a PoolCounters, kind: PhaseKind) -> Self {
        Self {
            counters,
            kind,
            start: Instant::now(),
            ended: false,
        }
    }

    /// Ends the phase; `ok`: the connect or check succeeded.
    fn end(mut self, ok: bool) {
        self.ended = true;
        self.record(ok);
    }

    fn record(&self, ok: bool) {
        let elapsed = self.start.elapsed();
        spend(elapsed);
        let c = self.counters;
        match (self.kind, ok) {
            (PhaseKind::Connect, true) => {
                c.connect_time.lock().record(elapsed);
                c.created.fetch_add(1, Ordering::Relaxed);
            }
            (PhaseKind::Connect, false) => {
                c.create_errors.fetch_add(1, Ordering::Relaxed);
            }
            (PhaseKind::Recycle, ok) => {
                c.recycle_check.lock().record(elapsed);
                let counter = if ok { &c.recycled } else { &c.closed_broken };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Drop for Phase<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.record(false);
        }
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

    pub(crate) fn max_lifetime(&self) -> Option<Duration> {
        self.max_lifetime
    }
}

impl managed::Manager for StatsManager {
    type Type = ClientWrapper;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<ClientWrapper, tokio_postgres::Error> {
        let phase = Phase::start(&self.counters, PhaseKind::Connect);
        let result = managed::Manager::create(&self.inner).await;
        phase.end(result.is_ok());
        if let Err(e) = &result {
            tracing::warn!(target: "perfect21_pg_stats::pool", error = %e, "could not open a connection");
        }
        result
    }

    async fn recycle(
        &self,
        client: &mut ClientWrapper,
        metrics: &Metrics,
    ) -> RecycleResult<tokio_postgres::Error> {
        // Connections are closed when they come back past max_lifetime (see
        // lease.rs); one that aged past it while idle in the pool is
        // retired here, by the caller that takes it.
        if let Some(max) = self.max_lifetime
            && metrics.age() >= max
        {
            self.counters
                .closed_lifetime
                .fetch_add(1, Ordering::Relaxed);
            tracing::debug!(target: "perfect21_pg_stats::pool", age = ?metrics.age(), "retiring a connection past max_lifetime");
            return Err(RecycleError::message("connection reached max_lifetime"));
        }
        let phase = Phase::start(&self.counters, PhaseKind::Recycle);
        let result = managed::Manager::recycle(&self.inner, client, metrics).await;
        phase.end(result.is_ok());
        result
    }

    fn detach(&self, client: &mut ClientWrapper) {
        managed::Manager::detach(&self.inner, client);
    }
}
