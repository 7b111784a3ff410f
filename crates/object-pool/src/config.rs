//! A built pool's settled configuration.

use std::time::Duration;

use crate::clock::Clock;

pub(crate) type Factory<T> = Box<dyn Fn() -> T + Send + Sync>;
pub(crate) type ResetHook<T> = Box<dyn Fn(&mut T) + Send + Sync>;
pub(crate) type ValidateHook<T> = Box<dyn Fn(&T) -> bool + Send + Sync>;

/// Everything `build()` validated, fixed for the pool's life.
pub(crate) struct Config<T> {
    pub(crate) factory: Factory<T>,
    pub(crate) reset: Option<ResetHook<T>>,
    pub(crate) validate: Option<ValidateHook<T>>,
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_idle: usize,
    pub(crate) max_total: Option<usize>,
    /// Objects each thread may cache; 0 turns the caches off (always so for
    /// capped pools, so every idle object is visible to a waiting get).
    pub(crate) thread_cache: usize,
    pub(crate) stats: bool,
    /// No `validate` and no `idle_timeout`: a return to a thread cache
    /// takes the shortest path.
    pub(crate) plain_return: bool,
}

impl<T> std::fmt::Debug for Config<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("max_idle", &self.max_idle)
            .field("max_total", &self.max_total)
            .field("thread_cache", &self.thread_cache)
            .field("idle_timeout", &self.idle_timeout)
            .field("reset", &self.reset.is_some())
            .field("validate", &self.validate.is_some())
            .field("clock", &self.clock)
            .field("stats", &self.stats)
            .finish()
    }
}
