//! The recording client, transaction, statement and row stream.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use deadpool::managed::Object;
use futures_util::Stream;
use tokio_postgres::types::{BorrowToSql, ToSql};
use tokio_postgres::{Error as PgError, Row, RowStream, Statement};

use crate::manager::StatsManager;
use crate::registry::Registry;

mod private {
    pub trait Sealed {}
}

/// What the recording methods accept as a statement: SQL text (`&str`,
/// `String`) or a [`StatsStatement`] from `prepare`/`prepare_cached`.
/// Sealed.
pub trait Query: private::Sealed + Sync {
    /// The SQL text (its normalised form is the statistics key).
    fn sql(&self) -> &str;
    /// The prepared statement, if this is one.
    fn prepared(&self) -> Option<&Statement>;
}

impl private::Sealed for str {}
impl Query for str {
    fn sql(&self) -> &str {
        self
    }
    fn prepared(&self) -> Option<&Statement> {
        None
    }
}

impl private::Sealed for String {}
impl Query for String {
    fn sql(&self) -> &str {
        self
    }
    fn prepared(&self) -> Option<&Statement> {
        None
    }
}

impl private::Sealed for StatsStatement {}
impl Query for StatsStatement {
    fn sql(&self) -> &str {
        &self.sql
    }
    fn prepared(&self) -> Option<&Statement> {
        Some(&self.statement)
    }
}

/// A prepared statement that remembers its SQL text, so its executions are
/// recorded under the right key.
#[derive(Debug, Clone)]
pub struct StatsStatement {
    statement: Statement,
    sql: Arc<str>,
}

impl StatsStatement {
    fn new(statement: Statement, sql: &str) -> Self {
        Self {
            statement,
            sql: sql.into(),
        }
    }

    /// The tokio-postgres statement (executions through it are not recorded).
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// The SQL text it was prepared from.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

/// Generates the recording methods on a type with `conn()` (a tokio-postgres
/// client or transaction) and `registry`.
macro_rules! recording_methods {
    () => {
        /// Like tokio-postgres's `query`; recorded with the number of rows.
        pub async fn query<Q: Query + ?Sized>(
            &self,
            query: &Q,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<Vec<Row>, PgError> {
            let start = Instant::now();
            let result = match query.prepared() {
                Some(s) => self.conn().query(s, params).await,
                None => self.conn().query(query.sql(), params).await,
            };
            let outcome = result.as_ref().map(|rows| rows.len() as u64);
            self.registry
                .record(query.sql(), start.elapsed(), outcome, Some(params));
            result
        }

        /// Like tokio-postgres's `query_one`: an error unless exactly one row.
        pub async fn query_one<Q: Query + ?Sized>(
            &self,
            query: &Q,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<Row, PgError> {
            let start = Instant::now();
            let result = match query.prepared() {
                Some(s) => self.conn().query_one(s, params).await,
                None => self.conn().query_one(query.sql(), params).await,
            };
            let outcome = result.as_ref().map(|_| 1);
            self.registry
                .record(query.sql(), start.elapsed(), outcome, Some(params));
            result
        }

        /// Like tokio-postgres's `query_opt`: zero or one row.
        pub async fn query_opt<Q: Query + ?Sized>(
            &self,
            query: &Q,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<Option<Row>, PgError> {
            let start = Instant::now();
            let result = match query.prepared() {
                Some(s) => self.conn().query_opt(s, params).await,
                None => self.conn().query_opt(query.sql(), params).await,
            };
            let outcome = result.as_ref().map(|row| u64::from(row.is_some()));
            self.registry
                .record(query.sql(), start.elapsed(), outcome, Some(params));
            result
        }

        /// Like tokio-postgres's `execute`; recorded with the rows affected.
        pub async fn execute<Q: Query + ?Sized>(
            &self,
            query: &Q,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<u64, PgError> {
            let start = Instant::now();
            let result = match query.prepared() {
                Some(s) => self.conn().execute(s, params).await,
                None => self.conn().execute(query.sql(), params).await,
            };
            let outcome = result.as_ref().copied();
            self.registry
                .record(query.sql(), start.elapsed(), outcome, Some(params));
            result
        }

        /// Like tokio-postgres's `query_raw`: rows as a stream. The call is
        /// recorded when the stream ends (or is dropped), with the rows read.
        /// Parameter values are never logged for it.
        pub async fn query_raw<Q, P, I>(
            &self,
            query: &Q,
            params: I,
        ) -> Result<StatsRowStream, PgError>
        where
            Q: Query + ?Sized,
            P: BorrowToSql,
            I: IntoIterator<Item = P>,
            I::IntoIter: ExactSizeIterator,
        {
            let start = Instant::now();
            let result = match query.prepared() {
                Some(s) => self.conn().query_raw(s, params).await,
                None => self.conn().query_raw(query.sql(), params).await,
            };
            match result {
                Ok(stream) => Ok(StatsRowStream {
                    inner: Box::pin(stream),
                    registry: Arc::clone(&self.registry),
                    sql: query.sql().into(),
                    start,
                    rows: 0,
                    done: false,
                }),
                Err(e) => {
                    self.registry
                        .record(query.sql(), start.elapsed(), Err(&e), None);
                    Err(e)
                }
            }
        }

        /// Like tokio-postgres's `batch_execute` (simple protocol, several
        /// statements allowed); recorded as one statement, 0 rows.
        pub async fn batch_execute(&self, sql: &str) -> Result<(), PgError> {
            let start = Instant::now();
            let result = self.conn().batch_execute(sql).await;
            let outcome = result.as_ref().map(|()| 0);
            self.registry.record(sql, start.elapsed(), outcome, None);
            result
        }

        /// Prepares `sql` (not cached, not recorded).
        pub async fn prepare(&self, sql: &str) -> Result<StatsStatement, PgError> {
            let statement = self.conn().prepare(sql).await?;
            Ok(StatsStatement::new(statement, sql))
        }
    };
}

/// A pooled connection whose statements are recorded. Returns to the pool
/// when dropped.
pub struct StatsClient {
    object: Object<StatsManager>,
    registry: Arc<Registry>,
}

impl std::fmt::Debug for StatsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsClient").finish_non_exhaustive()
    }
}

impl StatsClient {
    pub(crate) fn new(object: Object<StatsManager>, registry: Arc<Registry>) -> Self {
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
        Ok(StatsTransaction { txn, registry })
    }

    /// A transaction with options (isolation level, read-only, deferrable).
    pub fn build_transaction(&mut self) -> StatsTransactionBuilder<'_> {
        StatsTransactionBuilder {
            registry: Arc::clone(&self.registry),
            inner: self.object.build_transaction(),
        }
    }
}

/// Options for a transaction; from [`StatsClient::build_transaction`].
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

/// A transaction on a [`StatsClient`]; rolls back when dropped uncommitted.
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

/// Rows of [`StatsClient::query_raw`]; recorded when it ends or is dropped.
pub struct StatsRowStream {
    inner: Pin<Box<RowStream>>,
    registry: Arc<Registry>,
    sql: Box<str>,
    start: Instant,
    rows: u64,
    done: bool,
}

impl std::fmt::Debug for StatsRowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsRowStream")
            .field("sql", &self.sql)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl StatsRowStream {
    /// Rows affected, once the stream has ended (see tokio-postgres).
    pub fn rows_affected(&self) -> Option<u64> {
        self.inner.rows_affected()
    }

    fn finish(&mut self, outcome: Result<u64, &PgError>) {
        if !self.done {
            self.done = true;
            self.registry
                .record(&self.sql, self.start.elapsed(), outcome, None);
        }
    }
}

impl Stream for StatsRowStream {
    type Item = Result<Row, PgError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(row))) => {
                this.rows += 1;
                Poll::Ready(Some(Ok(row)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.finish(Err(&e));
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                let rows = this.rows;
                this.finish(Ok(rows));
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for StatsRowStream {
    fn drop(&mut self) {
        let rows = self.rows;
        self.finish(Ok(rows));
    }
}
