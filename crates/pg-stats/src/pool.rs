//! `StatsPool`: a deadpool of tokio-postgres connections that records.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use deadpool::managed::{Pool, PoolError, TimeoutType};

use crate::acquire::{Acquire, AcquireEnd};
use crate::builder::StatsPoolBuilder;
use crate::client::StatsClient;
use crate::clock::Instant;
use crate::error::{Error, Result};
use crate::lease::Lease;
use crate::manager::{PoolCounters, StatsManager};
use crate::outcome::Outcome;
use crate::registry::Registry;
use crate::stats::{ClosedCounts, PoolStats, SlowQuery, Stats};

/// A pool of tokio-postgres connections whose clients record every
/// statement. Cheap to clone (clones share the pool and the figures).
#[derive(Clone)]
pub struct StatsPool {
    pool: Pool<StatsManager>,
    registry: Arc<Registry>,
    counters: Arc<PoolCounters>,
}

impl std::fmt::Debug for StatsPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsPool")
            .field("status", &self.pool.status())
            .finish_non_exhaustive()
    }
}

impl StatsPool {
    /// A builder for a pool on `url` (`postgres://user:password@host:port/db`
    /// or `host=… user=…`). The URL is checked at [`build`](StatsPoolBuilder::build).
    pub fn builder(url: &str) -> StatsPoolBuilder {
        StatsPoolBuilder::from_url(url)
    }

    /// A builder from a `deadpool_postgres::Config`; its pool size, timeouts
    /// and recycling method become the builder's starting values.
    pub fn builder_from_config(config: deadpool_postgres::Config) -> StatsPoolBuilder {
        StatsPoolBuilder::from_config(config)
    }

    pub(crate) fn from_parts(
        pool: Pool<StatsManager>,
        registry: Arc<Registry>,
        counters: Arc<PoolCounters>,
    ) -> Self {
        Self {
            pool,
            registry,
            counters,
        }
    }

    /// Takes a connection, waiting up to the wait timeout. Every call —
    /// served, timed out, failed, or abandoned by dropping its future — is
    /// a sample of [`PoolStats::acquire_wait`] (the time waiting for a
    /// connection; connecting and the recycle check are measured apart, in
    /// [`PoolStats::connect_time`] and [`PoolStats::recycle_check`]).
    pub async fn get(&self) -> Result<StatsClient> {
        let acquire = Acquire::start(&self.counters);
        match acquire.scope(self.pool.get()).await {
            Ok(object) => {
                acquire.finish(AcquireEnd::Served);
                let lease = Lease::new(
                    object,
                    Arc::clone(&self.counters),
                    self.pool.manager().max_lifetime(),
                );
                Ok(StatsClient::new(lease, Arc::clone(&self.registry)))
            }
            Err(PoolError::Timeout(kind)) => {
                acquire.finish(AcquireEnd::TimedOut);
                Err(Error::AcquireTimeout(match kind {
                    TimeoutType::Wait => "wait",
                    TimeoutType::Create => "create",
                    TimeoutType::Recycle => "recycle",
                }))
            }
            Err(PoolError::Backend(e)) => {
                acquire.finish(AcquireEnd::Failed);
                Err(Error::Connect(e))
            }
            Err(PoolError::Closed) => {
                acquire.finish(AcquireEnd::Closed);
                Err(Error::Closed)
            }
            Err(other) => {
                acquire.finish(AcquireEnd::Failed);
                Err(Error::config("runtime", format!("pool error: {other}")))
            }
        }
    }

    /// Takes a connection and runs `SELECT 1`, all within `timeout`.
    pub async fn health_check(&self, timeout: Duration) -> Result<Duration> {
        let start = Instant::now();
        let check = async {
            let client = self.get().await?;
            client.raw().simple_query("SELECT 1").await?;
            Ok::<_, Error>(())
        };
        match tokio::time::timeout(timeout, check).await {
            Ok(Ok(())) => Ok(start.elapsed()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::Timeout(timeout)),
        }
    }

    /// A snapshot of every figure: pool, per statement (highest total time
    /// first), slow-query count.
    pub fn stats(&self) -> Stats {
        Stats {
            pool: self.pool_stats(),
            statements: self.registry.snapshot(),
            slow_queries: self.registry.slow.count(),
        }
    }

    /// The pool's figures alone (cheaper than [`stats`](Self::stats)).
    pub fn pool_stats(&self) -> PoolStats {
        let status = self.pool.status();
        let c = &self.counters;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        PoolStats {
            max_size: status.max_size,
            size: status.size,
            idle: status.available,
            in_use: status.size.saturating_sub(status.available),
            waiting: status.waiting,
            acquired: load(&c.acquired),
            acquire_timeouts: load(&c.acquire_timeouts),
            acquire_errors: load(&c.acquire_errors),
            acquire_cancelled: load(&c.acquire_cancelled),
            acquire_wait: c.acquire_wait.lock().snapshot(),
            acquire_time: c.acquire_time.lock().snapshot(),
            created: load(&c.created),
            create_errors: load(&c.create_errors),
            connect_time: c.connect_time.lock().snapshot(),
            recycled: load(&c.recycled),
            recycle_check: c.recycle_check.lock().snapshot(),
            closed: ClosedCounts {
                max_lifetime: load(&c.closed_lifetime),
                broken: load(&c.closed_broken),
            },
        }
    }

    /// Zeroes every counter and histogram and empties the slow-query ring.
    /// Statements stay known (and keep counting toward the cap).
    pub fn reset_stats(&self) {
        self.registry.reset();
        self.counters.reset();
    }

    /// The recent slow queries, oldest first.
    pub fn slow_queries(&self) -> Vec<SlowQuery> {
        self.registry.slow.recent()
    }

    /// Records a statement run elsewhere (e.g. on [`StatsClient::raw`]) as
    /// if it had gone through a recording client: `rows` returned or
    /// affected, `elapsed` its latency.
    pub fn record(&self, sql: &str, elapsed: Duration, rows: u64) {
        self.registry
            .record(sql, elapsed, Outcome::Rows(rows), None);
    }

    /// Closes the pool: idle connections close now, handed-out ones when
    /// they come back; later `get()` calls fail with [`Error::Closed`].
    pub fn close(&self) {
        self.pool.close();
    }
}
