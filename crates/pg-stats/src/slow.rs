//! The slow-query log: a `tracing` warning and a bounded ring of recent ones.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;

use crate::outcome::Outcome;
use crate::registry::Params;
use crate::stats::SlowQuery;

/// The `tracing` target of slow-query events.
pub const SLOW_QUERY_TARGET: &str = "perfect21_pg_stats::slow";

#[derive(Debug)]
pub(crate) struct SlowLog {
    threshold: Duration,
    log_parameters: bool,
    capacity: usize,
    ring: Mutex<VecDeque<SlowQuery>>,
    count: AtomicU64,
}

impl SlowLog {
    pub(crate) fn new(threshold: Duration, log_parameters: bool, capacity: usize) -> Self {
        Self {
            threshold,
            log_parameters,
            capacity,
            ring: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
            count: AtomicU64::new(0),
        }
    }

    #[inline]
    pub(crate) fn threshold(&self) -> Duration {
        self.threshold
    }

    #[cold]
    pub(crate) fn report(
        &self,
        statement: &str,
        duration: Duration,
        outcome: Outcome<'_>,
        params: Params<'_>,
    ) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let rows = outcome.rows();
        let sqlstate = outcome.sqlstate().map(str::to_owned);
        let cancelled = matches!(outcome, Outcome::Cancelled { .. });
        let parameters = match (self.log_parameters, params) {
            (true, Some(p)) => Some(p.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>()),
            _ => None,
        };
        // `Option` fields are left out of the event when `None`, and
        // `cancelled` when false.
        tracing::warn!(
            target: SLOW_QUERY_TARGET,
            statement,
            duration_ms = duration.as_secs_f64() * 1000.0,
            rows,
            sqlstate = sqlstate.as_deref(),
            cancelled = cancelled.then_some(true),
            parameters = parameters.as_ref().map(tracing::field::debug),
            "slow query"
        );
        if self.capacity == 0 {
            return;
        }
        let mut ring = self.ring.lock();
        if ring.len() == self.capacity {
            ring.pop_front();
        }
        ring.push_back(SlowQuery {
            statement: statement.to_owned(),
            duration,
            rows,
            sqlstate,
            cancelled,
            parameters,
            at: SystemTime::now(),
        });
    }

    pub(crate) fn recent(&self) -> Vec<SlowQuery> {
        self.ring.lock().iter().cloned().collect()
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub(crate) fn reset(&self) {
        self.ring.lock().clear();
        self.count.store(0, Ordering::Relaxed);
    }
}
