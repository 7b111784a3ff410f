//! A recording transaction (and its builder) on a [`StatsClient`](crate::StatsClient).

use std::sync::Arc;

use tokio_postgres::Error as PgError;
use tokio_postgres::Row;
use tokio_postgres::types::{BorrowToSql, ToSql};

use crate::call::Call;
use crate::methods::recording_methods;
use crate::outcome::Outcome;
use crate::query::{Query, StatsStatement};
use crate::registry::Registry;
use crate::row_stream::StatsRowStream;

/// Options for a transaction; from [`StatsClient::build_transaction`](crate::StatsClient::build_transaction).
pub struct StatsTransactionBuilder<'a> {
    inner: deadpool_postgres::TransactionBuilder<'a>,
    registry: Arc<Registry>,
}

impl std::fmt::Debug for StatsTransactionBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsTransactionBuilder")
            .finish_non_exhaustive()
    }
}

impl<'a> StatsTransactionBuilder<'a> {
    pub(crate) fn new(
        inner: deadpool_postgres::TransactionBuilder<'a>,
        registry: Arc<Registry>,
    ) -> Self {
        Self { inner, registry }
    }

    /// The isolation level (the server's default otherwise).
    pub fn isolation_level(self, level: tokio_postgres::IsolationLevel) -> Self {
        Self {
            inner: self.inner.isolation_level(level),
            registry: self.registry,
        }
    }

    /// Read-only (or read-write).
    pub fn read_only(self, read_only: bool) -> Self {
        Self {
            inner: self.inner.read_only(read_only),
            registry: self.registry,
        }
    }

    /// Deferrable (only meaningful for serializable read-only transactions).
    pub fn deferrable(self, deferrable: bool) -> Self {
        Self {
            inner: self.inner.deferrable(deferrable),
            registry: self.registry,
        }
    }

    /// Begins the transaction.
    pub async fn start(self) -> Result<StatsTransaction<'a>, PgError> {
        let txn = self.inner.start().await?;
        Ok(StatsTransaction {
            txn,
            registry: self.registry,
        })
    }
}

/// A transaction on a [`StatsClient`](crate::StatsClient); rolls back when dropped uncommitted.
pub struct StatsTransaction<'a> {
    txn: deadpool_postgres::Transaction<'a>,
    registry: Arc<Registry>,
}

impl std::fmt::Debug for StatsTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsTransaction").finish_non_exhaustive()
    }
}

impl<'a> StatsTransaction<'a> {
    pub(crate) fn new(txn: deadpool_postgres::Transaction<'a>, registry: Arc<Registry>) -> Self {
        Self { txn, registry }
    }

    fn conn(&self) -> &tokio_postgres::Transaction<'a> {
        &self.txn
    }

    /// The plain tokio-postgres transaction (not recorded).
    pub fn raw(&self) -> &tokio_postgres::Transaction<'a> {
        &self.txn
    }

    recording_methods!();

    /// Like deadpool-postgres's `prepare_cached`, within the transaction.
    pub async fn prepare_cached(&self, sql: &str) -> Result<StatsStatement, PgError> {
        let statement = self.txn.prepare_cached(sql).await?;
        Ok(StatsStatement::new(statement, sql))
    }

    /// A nested transaction (a savepoint), recorded too.
    pub async fn transaction(&mut self) -> Result<StatsTransaction<'_>, PgError> {
        let registry = Arc::clone(&self.registry);
        let txn = self.txn.transaction().await?;
        Ok(StatsTransaction { txn, registry })
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), PgError> {
        self.txn.commit().await
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), PgError> {
        self.txn.rollback().await
    }
}
