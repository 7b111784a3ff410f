//! How one statement execution ended, as the registry records it.

/// The end of one execution.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome<'a> {
    /// It finished: rows returned or affected.
    Rows(u64),
    /// It failed with this error.
    Failed(&'a tokio_postgres::Error),
    /// Its future (or row stream) was dropped before it finished — a
    /// caller's timeout, `select!`, a cancelled request; `rows` read so far.
    Cancelled {
        /// Rows read before the drop (row streams only; 0 otherwise).
        rows: u64,
    },
}

impl<'a> Outcome<'a> {
    /// The outcome of a finished call: `rows` counts its rows.
    pub(crate) fn of<T>(
        result: &'a Result<T, tokio_postgres::Error>,
        rows: impl Fn(&T) -> u64,
    ) -> Self {
        match result {
            Ok(value) => Self::Rows(rows(value)),
            Err(e) => Self::Failed(e),
        }
    }

    /// Rows returned, affected or read.
    pub(crate) fn rows(&self) -> u64 {
        match *self {
            Self::Rows(rows) | Self::Cancelled { rows } => rows,
            Self::Failed(_) => 0,
        }
    }

    /// The error's SQLSTATE, or `"closed"` (the connection closed) or
    /// `"client"` (no SQLSTATE: e.g. `query_one` got no row) when it has
    /// none; `None` unless it failed.
    pub(crate) fn sqlstate(&self) -> Option<&'a str> {
        match *self {
            Self::Failed(e) => Some(match e.code() {
                Some(code) => code.code(),
                None if e.is_closed() => "closed",
                None => "client",
            }),
            _ => None,
        }
    }
}
