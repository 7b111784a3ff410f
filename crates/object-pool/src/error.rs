//! The crate's one error type.

use std::time::Duration;

/// What went wrong: a refused configuration or a capped pool with nothing to
/// give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A builder option is outside its allowed range; nothing was built.
    #[error("invalid pool configuration: `{field}` is {value}, allowed: {allowed}")]
    InvalidConfig {
        /// The builder option, e.g. `max_idle`.
        field: &'static str,
        /// The value given.
        value: String,
        /// The allowed range, e.g. `1..=max_total`.
        allowed: String,
    },
    /// Every object of a pool capped by `max_total` is in use, and `get`
    /// does not wait.
    #[error("pool exhausted: all {max_total} objects are in use")]
    Exhausted {
        /// The pool's `max_total`.
        max_total: usize,
    },
    /// `get_timeout` waited its whole timeout and no object came free.
    #[error("pool exhausted: no object came free within {waited:?} (max_total {max_total})")]
    Timeout {
        /// How long the call waited.
        waited: Duration,
        /// The pool's `max_total`.
        max_total: usize,
    },
}

impl Error {
    pub(crate) fn invalid(
        field: &'static str,
        value: impl ToString,
        allowed: impl Into<String>,
    ) -> Self {
        Self::InvalidConfig {
            field,
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}
