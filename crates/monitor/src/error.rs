//! The crate's one error enum.

use std::time::Duration;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// A builder option is out of range; `field` names it.
    #[error("invalid configuration: `{field}` {reason}")]
    InvalidConfig {
        /// The option, e.g. `interval`.
        field: &'static str,
        /// What is allowed, e.g. `must be at least 1 ms`.
        reason: String,
    },
    /// A metric name is registered with a different kind (counter, gauge,
    /// histogram) than the one asked for.
    #[error("metric `{name}` is already registered as a {existing}")]
    KindMismatch {
        /// The metric name.
        name: String,
        /// The kind it already has.
        existing: &'static str,
    },
    /// The operating system refused to give a measurement.
    #[error("system information unavailable: {0}")]
    System(String),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A report could not be serialised.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Why an [`AlertSink`](crate::AlertSink) could not deliver an event.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The receiver is gone (a closed channel).
    #[error("sink closed")]
    Closed,
    /// The remote end did not answer within the configured timeout.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The remote end answered with a non-success HTTP status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// A transport-level failure (connection refused, reset, …).
    #[error("transport error: {0}")]
    Transport(String),
    /// Anything else a custom sink wants to report.
    #[error("{0}")]
    Other(String),
}

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> MonitorError {
    MonitorError::InvalidConfig {
        field,
        reason: reason.into(),
    }
}
