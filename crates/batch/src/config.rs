//! The validated options of a batcher, their defaults and allowed ranges.

use std::time::Duration;

use crate::error::ConfigError;
use crate::policy::FlushPolicy;

/// Default `max_batch_size`.
pub(crate) const DEFAULT_MAX_BATCH_SIZE: usize = 128;
/// Default `max_wait` (used by [`FlushPolicy::Fixed`] only).
pub(crate) const DEFAULT_MAX_WAIT: Duration = Duration::from_millis(5);
/// Default `max_concurrent_batches`.
pub(crate) const DEFAULT_MAX_CONCURRENT_BATCHES: usize = 4;
/// Default `queue_capacity`.
pub(crate) const DEFAULT_QUEUE_CAPACITY: usize = 16_384;

const MAX_BATCH_SIZE: usize = 1 << 20;
const MAX_CONCURRENT_BATCHES: usize = 1 << 16;
const MAX_QUEUE_CAPACITY: usize = 1 << 30;
const MAX_WAIT: Duration = Duration::from_secs(3600);
const MAX_BATCH_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Every option, checked.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Names the batcher in tracing spans and events.
    pub(crate) name: String,
    pub(crate) max_batch_size: usize,
    pub(crate) max_wait: Duration,
    pub(crate) max_concurrent_batches: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) batch_timeout: Option<Duration>,
    pub(crate) policy: FlushPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            name: "batcher".to_string(),
            max_batch_size: DEFAULT_MAX_BATCH_SIZE,
            max_wait: DEFAULT_MAX_WAIT,
            max_concurrent_batches: DEFAULT_MAX_CONCURRENT_BATCHES,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            batch_timeout: None,
            policy: FlushPolicy::Eager,
        }
    }
}

impl Config {
    /// Refuses the first option outside its range, naming it.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_BATCH_SIZE).contains(&self.max_batch_size) {
            return Err(ConfigError::out_of_range(
                "max_batch_size",
                self.max_batch_size,
                "1 ..= 1048576",
            ));
        }
        if self.max_wait > MAX_WAIT {
            return Err(ConfigError::out_of_range(
                "max_wait",
                self.max_wait,
                "0 ..= 1 hour",
            ));
        }
        if !(1..=MAX_CONCURRENT_BATCHES).contains(&self.max_concurrent_batches) {
            return Err(ConfigError::out_of_range(
                "max_concurrent_batches",
                self.max_concurrent_batches,
                "1 ..= 65536",
            ));
        }
        if !(1..=MAX_QUEUE_CAPACITY).contains(&self.queue_capacity) {
            return Err(ConfigError::out_of_range(
                "queue_capacity",
                self.queue_capacity,
                "1 ..= 1073741824",
            ));
        }
        if let Some(timeout) = self.batch_timeout
            && (timeout.is_zero() || timeout > MAX_BATCH_TIMEOUT)
        {
            return Err(ConfigError::out_of_range(
                "batch_timeout",
                timeout,
                "1 ns ..= 24 hours",
            ));
        }
        Ok(())
    }
}
