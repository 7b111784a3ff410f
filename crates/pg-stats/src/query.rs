//! What the recording methods accept as a statement: SQL text or a
//! [`StatsStatement`] that remembers the text it was prepared from.

use std::sync::Arc;

use tokio_postgres::Statement;

use crate::normalize::normalize;

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
/// recorded under the right key. Its `Debug` form shows the normalised SQL
/// (no literal values).
#[derive(Clone)]
pub struct StatsStatement {
    statement: Statement,
    sql: Arc<str>,
}

impl std::fmt::Debug for StatsStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsStatement")
            .field("statement", &normalize(&self.sql))
            .finish_non_exhaustive()
    }
}

impl StatsStatement {
    pub(crate) fn new(statement: Statement, sql: &str) -> Self {
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
