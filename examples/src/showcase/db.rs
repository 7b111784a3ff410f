//! Postgres: two [`StatsPool`]s (the primary and a read endpoint), a
//! balancer that spreads reads over both, and a semaphore that bounds how
//! many requests use the database at once (the original's
//! `ConcurrencyManager`).
//!
//! The demo points both endpoints at the same server (there is one test
//! Postgres); the balancer, its stats and the per-pool statement stats work
//! the same against a real replica.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use perfect21_balancer::{Balancer, PeakEwma};
use perfect21_pg_stats::{StatsClient, StatsPool};
use tokio::sync::{Semaphore, SemaphorePermit};

/// The read endpoints' names, as the balancer knows them.
pub const ENDPOINTS: [&str; 2] = ["primary", "replica"];

/// The database side of the showcase.
#[derive(Debug)]
pub struct Db {
    /// Schema, seed, writes, and the read endpoint "primary".
    pub primary: StatsPool,
    /// The read endpoint "replica".
    pub replica: StatsPool,
    /// Spreads reads over the two.
    pub balancer: Balancer<&'static str>,
    limit: Semaphore,
}

/// A connection for reads, with its balancer guard and concurrency permit.
pub struct ReadConn<'a> {
    /// The client (derefs like tokio-postgres's).
    pub client: StatsClient,
    guard: Option<perfect21_balancer::PickGuard<&'static str>>,
    _permit: SemaphorePermit<'a>,
}

impl std::fmt::Debug for ReadConn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadConn").finish_non_exhaustive()
    }
}

impl ReadConn<'_> {
    /// Reports the outcome of the work done with this connection to the balancer.
    pub fn done(mut self, ok: bool) {
        if let Some(guard) = self.guard.take() {
            if ok { guard.success() } else { guard.failure() }
        }
    }
}

fn pool(url: &str, size: usize) -> Result<StatsPool> {
    StatsPool::builder(url)
        .max_size(size)
        .application_name("perfect21-showcase")
        .session_setting("search_path", "showcase")
        .session_setting("client_min_messages", "warning")
        .statement_timeout(Duration::from_secs(5))
        .wait_timeout(Some(Duration::from_secs(5)))
        .slow_threshold(Duration::from_millis(50))
        .build()
        .map_err(|e| anyhow!("{e}"))
}

impl Db {
    /// Builds both pools (`size` connections each) and the balancer; the
    /// semaphore admits `2 × size` requests at once.
    pub fn new(primary_url: &str, replica_url: &str, size: usize) -> Result<Self> {
        Ok(Self {
            primary: pool(primary_url, size).context("DATABASE_URL")?,
            replica: pool(replica_url, size).context("REPLICA_DATABASE_URL")?,
            balancer: Balancer::builder()
                .strategy(PeakEwma::new())
                .endpoints(ENDPOINTS)
                .build()
                .map_err(|e| anyhow!("{e}"))?,
            limit: Semaphore::new(2 * size),
        })
    }

    /// The pool of a read endpoint.
    pub fn pool(&self, endpoint: &str) -> &StatsPool {
        if endpoint == ENDPOINTS[1] {
            &self.replica
        } else {
            &self.primary
        }
    }

    /// A read connection from the endpoint the balancer picks, once the
    /// concurrency limit admits the caller.
    pub async fn read(&self) -> Result<ReadConn<'_>> {
        let permit = self
            .limit
            .acquire()
            .await
            .context("database limiter closed")?;
        let guard = self.balancer.pick().map_err(|e| anyhow!("{e}"))?;
        match self.pool(*guard).get().await {
            Ok(client) => Ok(ReadConn {
                client,
                guard: Some(guard),
                _permit: permit,
            }),
            Err(e) => {
                guard.failure();
                Err(anyhow!("{e}"))
            }
        }
    }

    /// Requests currently waiting for the database limiter's permits.
    pub fn available_permits(&self) -> usize {
        self.limit.available_permits()
    }
}

/// Both pools, shared.
pub type SharedDb = Arc<Db>;
