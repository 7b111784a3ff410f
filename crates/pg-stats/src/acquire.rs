//! One `get()` call, recorded exactly once: served, timed out, failed —
//! or abandoned, when its future is dropped while it waits (a caller's own
//! timeout, `select!`, a cancelled request). Every call is a sample of the
//! wait histogram, so the waits that hurt most are in it too.

use std::sync::atomic::Ordering;

use crate::clock::Instant;
use crate::manager::PoolCounters;

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
    recorded: bool,
}

impl<'a> Acquire<'a> {
    pub(crate) fn start(counters: &'a PoolCounters) -> Self {
        Self {
            counters,
            start: Instant::now(),
            recorded: false,
        }
    }

    pub(crate) fn finish(mut self, end: AcquireEnd) {
        self.recorded = true;
        self.record(Some(end));
    }

    /// `None`: abandoned.
    fn record(&self, end: Option<AcquireEnd>) {
        let c = self.counters;
        c.acquire_wait.lock().record(self.start.elapsed());
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
