//! The crate's errors: what a submitted item's outcome can be
//! ([`BatchError`]), why a non-waiting submit was refused
//! ([`TrySubmitError`]), and what is wrong with a configuration
//! ([`ConfigError`]).

use std::fmt;
use std::time::Duration;

/// Why a submitted item did not get its output.
///
/// Batch-level failures (an `Err` from the batch function, a wrong output
/// count, a panic, a timeout) reach every item of that batch, so the error
/// is cloned once per item: `E` must be `Clone` — wrap an error that is not
/// in an [`Arc`](std::sync::Arc).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError<E> {
    /// The batch function returned `Err` for the batch this item was in.
    #[error("the batch function failed: {0}")]
    Failed(#[source] E),
    /// The batch function returned `actual` outputs for `expected` inputs.
    /// Outputs are matched to callers by position, so no caller of that
    /// batch gets one: a wrong count never misroutes.
    #[error("the batch function returned {actual} outputs for {expected} inputs")]
    OutputCountMismatch {
        /// The number of inputs in the batch.
        expected: usize,
        /// The number of outputs returned.
        actual: usize,
    },
    /// The batch function panicked. The batcher keeps working; only this
    /// batch's items fail.
    #[error("the batch function panicked: {message}")]
    Panicked {
        /// The panic's message, when it was a string.
        message: String,
    },
    /// The batch function did not finish within `batch_timeout`; its
    /// future was dropped.
    #[error("the batch function did not finish within {after:?}")]
    Timeout {
        /// The configured `batch_timeout`.
        after: Duration,
    },
    /// The batcher was shut down (or its last handle dropped) before the
    /// item was accepted. The item was never queued.
    #[error("the batcher is closed")]
    Closed,
    /// The task running this item's batch was dropped before it finished —
    /// its tokio runtime shut down.
    #[error("the batch was dropped before it finished (its runtime shut down)")]
    Aborted,
}

/// Why [`try_submit`](crate::Batcher::try_submit) refused an item. The item
/// is handed back untouched.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrySubmitError<I> {
    /// `queue_capacity` items are already waiting for a batch.
    #[error("the batcher's queue is full")]
    QueueFull(I),
    /// The batcher was shut down (or its last handle dropped).
    #[error("the batcher is closed")]
    Closed(I),
}

impl<I> TrySubmitError<I> {
    /// The refused item, back.
    pub fn into_inner(self) -> I {
        match self {
            Self::QueueFull(item) | Self::Closed(item) => item,
        }
    }
}

impl<I> fmt::Debug for TrySubmitError<I> {
    // Without the item: it may be large or sensitive, and need not be Debug.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QueueFull(_) => f.write_str("QueueFull(..)"),
            Self::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

/// An invalid configuration, refused by `build()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An option's value is outside its allowed range.
    #[error("invalid `{field}`: {value} (allowed: {allowed})")]
    OutOfRange {
        /// The option, as the builder names it (e.g. `max_batch_size`).
        field: &'static str,
        /// The value given.
        value: String,
        /// The allowed range.
        allowed: &'static str,
    },
    /// `build()` was called outside a tokio runtime and no runtime was
    /// given with [`runtime`](crate::BatcherBuilder::runtime).
    #[error("no tokio runtime: call build() inside a runtime or pass one with .runtime(handle)")]
    NoRuntime,
}

impl ConfigError {
    pub(crate) fn out_of_range(
        field: &'static str,
        value: impl fmt::Debug,
        allowed: &'static str,
    ) -> Self {
        Self::OutOfRange {
            field,
            value: format!("{value:?}"),
            allowed,
        }
    }
}
