//! The crate's one error type.

use std::sync::Arc;
use std::time::Duration;

/// Everything that can go wrong in a [`RedisCache`](crate::RedisCache) call
/// or while building one.
///
/// Messages never carry the connection URL's password: redis errors are
/// redacted before they are wrapped.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// An option given to the builder is out of range or missing.
    #[error("invalid configuration: `{field}` {reason}")]
    Config {
        /// The builder option at fault.
        field: &'static str,
        /// What is wrong with it and what is allowed.
        reason: String,
    },
    /// Redis answered with an error or the connection failed (strict mode
    /// only; in fail-open mode this becomes a miss or a no-op).
    #[error("redis error: {0}")]
    Redis(String),
    /// A command took longer than the configured command timeout (strict
    /// mode only).
    #[error("redis command timed out after {0:?}")]
    Timeout(Duration),
    /// A value could not be serialised by the codec.
    #[error("could not encode the value: {0}")]
    Encode(String),
    /// A value could not be decoded as the type asked for: returned by
    /// `get_or_set` when concurrent callers of one key ask for different
    /// types. A *stored* value that does not decode is never an error: it
    /// reads as a miss and counts in `decode_errors`.
    #[error("could not decode the stored value: {0}")]
    Decode(String),
    /// The encoded value is larger than the configured maximum.
    #[error("value of {size} bytes exceeds the maximum of {max} bytes")]
    ValueTooLarge {
        /// Encoded (and, where it applies, compressed) size.
        size: usize,
        /// The configured `max_value_size`.
        max: usize,
    },
    /// The loader of [`get_or_set`](crate::RedisCache::get_or_set) failed;
    /// every caller waiting on the same key receives this same error and
    /// nothing is cached.
    #[error("loader failed: {0}")]
    Loader(Arc<dyn std::error::Error + Send + Sync>),
    /// The loader of a single-flight load was cancelled (every caller that
    /// drove it was dropped) or panicked.
    #[error("the shared load was abandoned before it finished")]
    LoadAbandoned,
}

impl CacheError {
    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Config {
            field,
            reason: reason.into(),
        }
    }
}

/// Short for `Result<T, CacheError>`.
pub type Result<T, E = CacheError> = std::result::Result<T, E>;
