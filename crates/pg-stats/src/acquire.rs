//! One `get()` call, recorded exactly once: served, timed out, failed —
//! or abandoned, when its future is dropped while it waits (a caller's own
//! timeout, `select!`, a cancelled request). Every call is a sample of the
//! wait histogram, so the waits that hurt most are in it too.
//!
//! The wait is the call's time minus what it spent connecting and in
//! recycle checks: deadpool runs the manager's `create` and `recycle`
//! inside `get()`'s future, so a task-local scoped around that future
//! lets the manager add their time to the call that pays for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::Instant;
use crate::manager::PoolCounters;

tokio::task_local! {
    /// Nanoseconds the `get()` being polled has spent connecting and in
    /// recycle checks.
    static SPENT: Arc<AtomicU64>;
}

/// Adds `d` (time connecting or checking) to the `get()` being polled, if
/// any.
pub(crate) fn spend(d: Duration) {
    let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    let _ = SPENT.try_with(|spent| spent.fetch_add(nanos, Ordering::Relaxed));
}

/// How a `get()` call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AcquireEnd {
    /// A connection was handed out.
    Served,
    /// The wait (or create, or recycle) timeout ran out.
    TimedOut,
    /// Connecting failed.
    Failed,
    /// The pool is closed.
    Closed,
}

pub(crate) struct Acquire<'a> {
    counters: &'a PoolCounters,
    start: Instant,
    spent: Arc<AtomicU64>,
    recorded: bool,
}

impl<'a> Acquire<'a> {
    pub(crate) fn start(counters: &'a PoolCounters) -> Self {
        Self {
            counters,
            start: Instant::now(),
            spent: Arc::new(AtomicU64::new(0)),
            recorded: false,
        }
    }

    /// `get` with the manager's time credited to this call.
    pub(crate) async fn scope<F: Future>(&self, get: F) -> F::Output {
        SPENT.scope(Arc::clone(&self.spent), get).await
    }

    pub(crate) fn finish(mut self, end: AcquireEnd) {
        self.recorded = true;
        self.record(Some(end));
    }

    /// `None`: abandoned.
    fn record(&self, end: Option<AcquireEnd>) {
        let c = self.counters;
        let total = self.start.elapsed();
        let spent = Duration::from_nanos(self.spent.load(Ordering::Relaxed));
        c.acquire_wait.lock().record(total.saturating_sub(spent));
        if end == Some(AcquireEnd::Served) {
            c.acquire_time.lock().record(total);
        }
        let counter = match end {
            Some(AcquireEnd::Served) => &c.acquired,
            Some(AcquireEnd::TimedOut) => &c.acquire_timeouts,
            Some(AcquireEnd::Failed) => &c.acquire_errors,
            Some(AcquireEnd::Closed) => return,
            None => &c.acquire_cancelled,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if !self.recorded {
            self.record(None);
        }
    }
}
