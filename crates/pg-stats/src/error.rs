//! The crate's one error type.

use std::time::Duration;

/// What went wrong. Never carries a connection string or password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A builder option is out of range; names the field and what it accepts.
    #[error("invalid configuration: `{field}` {reason}")]
    Config {
        /// The option, as its builder method is named.
        field: &'static str,
        /// What is allowed.
        reason: String,
    },
    /// No connection became free within the pool's wait timeout (or a new
    /// one could not be made within the create timeout).
    #[error("timed out acquiring a connection from the pool ({0})")]
    AcquireTimeout(&'static str),
    /// The pool could not make a connection: the server's error.
    #[error("could not connect: {0}")]
    Connect(#[source] tokio_postgres::Error),
    /// The pool has been closed.
    #[error("the pool is closed")]
    Closed,
    /// A statement failed: the server's (or the connection's) error.
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
    /// An operation did not finish in time (e.g. [`health_check`](crate::StatsPool::health_check)).
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// `pg_stat_statements` is not installed in the connected database.
    #[error(
        "the pg_stat_statements extension is missing: add `shared_preload_libraries = 'pg_stat_statements'` \
         to postgresql.conf, restart the server, then run `CREATE EXTENSION pg_stat_statements;` in this database"
    )]
    ExtensionMissing,
}

impl Error {
    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Config {
            field,
            reason: reason.into(),
        }
    }

    /// The SQLSTATE code of a server error (`"23505"` for a unique violation).
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Self::Db(e) | Self::Connect(e) => e.code().map(|c| c.code()),
            _ => None,
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
