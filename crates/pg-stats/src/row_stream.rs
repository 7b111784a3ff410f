//! The row stream of `query_raw`, recorded when it ends or is dropped.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio_postgres::{Error as PgError, Row, RowStream};

use crate::clock::Instant;
use crate::normalize::normalize;
use crate::outcome::Outcome;
use crate::registry::Registry;

/// Rows of [`StatsClient::query_raw`](crate::StatsClient::query_raw). The
/// call is recorded when the stream ends (or fails), or as cancelled when
/// the stream is dropped before its last row, with the rows read. Its
/// `Debug` form shows the normalised SQL (no literal values).
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
            .field("statement", &normalize(&self.sql))
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl StatsRowStream {
    pub(crate) fn new(
        inner: RowStream,
        registry: Arc<Registry>,
        sql: &str,
        start: Instant,
    ) -> Self {
        Self {
            inner: Box::pin(inner),
            registry,
            sql: sql.into(),
            start,
            rows: 0,
            done: false,
        }
    }

    /// Rows affected, once the stream has ended (see tokio-postgres).
    pub fn rows_affected(&self) -> Option<u64> {
        self.inner.rows_affected()
    }

    fn finish(&mut self, outcome: Outcome<'_>) {
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
                this.finish(Outcome::Failed(&e));
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                let rows = this.rows;
                this.finish(Outcome::Rows(rows));
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for StatsRowStream {
    fn drop(&mut self) {
        let rows = self.rows;
        self.finish(Outcome::Cancelled { rows });
    }
}
