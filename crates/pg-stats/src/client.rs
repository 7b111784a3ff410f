//! The recording client handed out by the pool.

use std::sync::Arc;

use tokio_postgres::Error as PgError;
use tokio_postgres::Row;
use tokio_postgres::types::{BorrowToSql, ToSql};

use crate::call::Call;
use crate::lease::Lease;
use crate::methods::recording_methods;
use crate::outcome::Outcome;
use crate::query::{Query, StatsStatement};
use crate::registry::Registry;
use crate::row_stream::StatsRowStream;
use crate::transaction::{StatsTransaction, StatsTransactionBuilder};

/// A pooled connection whose statements are recorded. Returns to the pool
/// when dropped — or is closed then, if it has outlived `max_lifetime`.
pub struct StatsClient {
    object: Lease,
    registry: Arc<Registry>,
}

impl std::fmt::Debug for StatsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsClient").finish_non_exhaustive()
    }
}

impl StatsClient {
    pub(crate) fn new(object: Lease, registry: Arc<Registry>) -> Self {
        Self { object, registry }
    }

    fn conn(&self) -> &tokio_postgres::Client {
        &self.object
    }

    /// The plain tokio-postgres client: what runs through it is not recorded.
    pub fn raw(&self) -> &tokio_postgres::Client {
        &self.object
    }

    recording_methods!();

    /// Like deadpool-postgres's `prepare_cached`: prepared once per
    /// connection, then reused.
    pub async fn prepare_cached(&self, sql: &str) -> Result<StatsStatement, PgError> {
        let statement = self.object.prepare_cached(sql).await?;
        Ok(StatsStatement::new(statement, sql))
    }

    /// Begins a transaction whose statements are recorded too.
    pub async fn transaction(&mut self) -> Result<StatsTransaction<'_>, PgError> {
        let registry = Arc::clone(&self.registry);
        let txn = self.object.transaction().await?;
        Ok(StatsTransaction::new(txn, registry))
    }

    /// A transaction with options (isolation level, read-only, deferrable).
    pub fn build_transaction(&mut self) -> StatsTransactionBuilder<'_> {
        StatsTransactionBuilder::new(self.object.build_transaction(), Arc::clone(&self.registry))
    }
}
