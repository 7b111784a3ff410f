//! Snapshots: plain numbers, computed when taken.

use std::collections::BTreeMap;
use std::time::Duration;

/// Latency summary of one histogram.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Latency {
    /// Number of samples.
    pub count: u64,
    /// Smallest sample (exact).
    pub min: Duration,
    /// Largest sample (exact).
    pub max: Duration,
    /// Sum of all samples (exact).
    pub total: Duration,
    /// Median (2 significant figures).
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
}

impl Latency {
    /// `total / count`, zero when there are no samples.
    pub fn mean(&self) -> Duration {
        match u32::try_from(self.count) {
            Ok(0) => Duration::ZERO,
            Ok(n) => self.total / n,
            Err(_) => Duration::from_secs_f64(self.total.as_secs_f64() / self.count as f64),
        }
    }
}

/// Figures for one normalised statement.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StatementStats {
    /// The normalised SQL (literals as `$n`), or [`OTHER`](crate::OTHER) for
    /// the bucket that collects statements past the cap.
    pub statement: String,
    /// Executions: successful, failed or cancelled.
    pub calls: u64,
    /// Executions that returned an error.
    pub errors: u64,
    /// Errors by SQLSTATE class (`"23"` integrity violation, `"42"` syntax or
    /// access rule, `"57"` operator intervention, …); errors without a
    /// SQLSTATE are counted under `"closed"` (the connection closed) or
    /// `"client"` (e.g. `query_one` got no row, a type conversion failed).
    pub errors_by_class: BTreeMap<String, u64>,
    /// Executions cancelled by `statement_timeout` (SQLSTATE 57014).
    pub timeouts: u64,
    /// Executions the caller gave up on: the future was dropped before the
    /// statement finished (a timeout around the call, `select!`, a cancelled
    /// request), or a `query_raw` stream was dropped before its last row.
    /// Counted in `calls`, not in `errors`; the time until the drop is in
    /// `latency` (a lower bound of the statement's own time, which the
    /// server may still be spending).
    pub cancelled: u64,
    /// Rows returned (queries) or affected (`execute`); for a cancelled
    /// `query_raw` stream, the rows read before the drop.
    pub rows: u64,
    /// Client-side latency: from sending to the last row received (to the
    /// drop, for cancelled executions). One sample per call.
    pub latency: Latency,
}

impl StatementStats {
    /// Mean latency.
    pub fn mean(&self) -> Duration {
        self.latency.mean()
    }

    /// `errors / calls`, 0 when never called.
    pub fn error_ratio(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.errors as f64 / self.calls as f64
        }
    }
}

/// Why the pool closed a connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ClosedCounts {
    /// Older than `max_lifetime` when it came back (or, having aged while
    /// idle, when a `get()` took it).
    pub max_lifetime: u64,
    /// Failed the recycle check (closed by the server, broken, the
    /// verification query failed or did not finish in `recycle_timeout`).
    pub broken: u64,
}

/// The pool's figures.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PoolStats {
    /// Configured maximum number of connections.
    pub max_size: usize,
    /// Connections open now.
    pub size: usize,
    /// Connections idle in the pool now.
    pub idle: usize,
    /// Connections handed out now.
    pub in_use: usize,
    /// Callers waiting for a connection now.
    pub waiting: usize,
    /// Successful `get()` calls.
    pub acquired: u64,
    /// `get()` calls that timed out.
    pub acquire_timeouts: u64,
    /// `get()` calls that failed to connect.
    pub acquire_errors: u64,
    /// `get()` calls abandoned by their caller: the future was dropped
    /// while it waited (a timeout around it, `select!`, a cancelled request).
    pub acquire_cancelled: u64,
    /// Time `get()` waited for a connection — not counting the recycle
    /// check ([`recycle_check`](Self::recycle_check)) nor connecting
    /// ([`connect_time`](Self::connect_time)) it may have run. One sample
    /// per call whatever its end: served, timed out, failed or abandoned
    /// (the wait until the drop).
    pub acquire_wait: Latency,
    /// The whole of each served `get()`: waiting, recycle checks and
    /// connecting together — what the caller paid for its connection.
    pub acquire_time: Latency,
    /// Connections opened.
    pub created: u64,
    /// Connection attempts that failed, timed out (`create_timeout`) or
    /// were abandoned with their `get()`.
    pub create_errors: u64,
    /// Time to establish a connection (TCP, startup, authentication), for
    /// the connections opened.
    pub connect_time: Latency,
    /// Connections checked and handed out again.
    pub recycled: u64,
    /// Time of each recycle check (the recycling method's round trip, none
    /// for `Fast`), passed or not.
    pub recycle_check: Latency,
    /// Connections closed, by reason.
    pub closed: ClosedCounts,
}

/// A recent slow query, as kept in the ring of [`StatsPool::slow_queries`](crate::StatsPool::slow_queries).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SlowQuery {
    /// The normalised SQL: no literal values.
    pub statement: String,
    /// How long it took.
    pub duration: Duration,
    /// Rows returned or affected (0 on error).
    pub rows: u64,
    /// SQLSTATE of the error, if it failed (`"closed"` or `"client"` for
    /// errors without one).
    pub sqlstate: Option<String>,
    /// The caller gave up on it before it finished (its future or row
    /// stream was dropped): `duration` is the time until the drop.
    pub cancelled: bool,
    /// The parameters' `Debug` forms — only when
    /// [`log_parameters`](crate::StatsPoolBuilder::log_parameters) is on.
    pub parameters: Option<Vec<String>>,
    /// Wall-clock time it finished.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub at: std::time::SystemTime,
}

/// Everything [`StatsPool::stats`](crate::StatsPool::stats) knows.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Stats {
    /// The pool.
    pub pool: PoolStats,
    /// One row per normalised statement, highest total time first.
    pub statements: Vec<StatementStats>,
    /// Slow queries since start (or the last reset).
    pub slow_queries: u64,
}

impl Stats {
    /// The row for a normalised statement, if it was seen.
    pub fn statement(&self, normalized: &str) -> Option<&StatementStats> {
        self.statements.iter().find(|s| s.statement == normalized)
    }

    /// Sum of calls over every statement.
    pub fn total_calls(&self) -> u64 {
        self.statements.iter().map(|s| s.calls).sum()
    }
}
