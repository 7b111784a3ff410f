//! `ObjectPool::builder(factory)…build()`: every option, each checked at
//! `build()` against its allowed range.

use std::time::Duration;

use crate::Error;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Factory, ResetHook, ValidateHook};
use crate::core::Core;
use crate::local::MAX_THREAD_CACHE;
use crate::pool::ObjectPool;

/// Idle objects kept when neither `max_idle` nor `max_total` is set.
pub const DEFAULT_MAX_IDLE: usize = 64;
/// Objects each thread caches by default.
pub const DEFAULT_THREAD_CACHE: usize = 8;

/// Configures an [`ObjectPool`]; made by [`ObjectPool::builder`].
#[must_use = "a builder does nothing until `build()`"]
pub struct ObjectPoolBuilder<T> {
    factory: Factory<T>,
    reset: Option<ResetHook<T>>,
    validate: Option<ValidateHook<T>>,
    clock: Box<dyn Clock>,
    idle_timeout: Option<Duration>,
    max_idle: Option<usize>,
    max_total: Option<usize>,
    thread_cache: usize,
    prefill: usize,
    stats: bool,
}

impl<T> std::fmt::Debug for ObjectPoolBuilder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectPoolBuilder")
            .field("max_idle", &self.max_idle)
            .field("max_total", &self.max_total)
            .field("thread_cache", &self.thread_cache)
            .field("prefill", &self.prefill)
            .field("idle_timeout", &self.idle_timeout)
            .field("reset", &self.reset.is_some())
            .field("validate", &self.validate.is_some())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> ObjectPoolBuilder<T> {
    pub(crate) fn new(factory: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Self {
            factory: Box::new(factory),
            reset: None,
            validate: None,
            clock: Box::new(SystemClock),
            idle_timeout: None,
            max_idle: None,
            max_total: None,
            thread_cache: DEFAULT_THREAD_CACHE,
            prefill: 0,
            stats: true,
        }
    }

    /// Idle objects kept for reuse, across the shared stack and every
    /// thread cache; a returned object beyond it is dropped and counted
    /// (`discarded_over_max_idle`). Allowed: `0..=max_total`; default
    /// [`DEFAULT_MAX_IDLE`], or `max_total` when that is set.
    pub fn max_idle(mut self, max_idle: usize) -> Self {
        self.max_idle = Some(max_idle);
        self
    }

    /// Hard cap on live objects (in use + idle). At the cap, `get` returns
    /// [`Error::Exhausted`], `get_timeout` blocks and `get_async` awaits
    /// until an object is returned, dropped or detached. A capped pool keeps
    /// every idle object in its shared stack (no thread caches) so that a
    /// waiting get can always see it. Allowed: `1..`.
    pub fn max_total(mut self, max_total: usize) -> Self {
        self.max_total = Some(max_total);
        self
    }

    /// Runs on every returned object before it is kept, so idle objects are
    /// always clean and a get never sees a previous user's data. Pass
    /// [`Reset::reset`](crate::Reset::reset) for collections and buffers. A
    /// panic in the hook is caught: the object is dropped and counted.
    pub fn reset(mut self, reset: impl Fn(&mut T) + Send + Sync + 'static) -> Self {
        self.reset = Some(Box::new(reset));
        self
    }

    /// Runs on every returned object after `reset`; `false` drops it instead
    /// of keeping it (e.g. a buffer that grew past a limit). A panic counts
    /// as `false`.
    pub fn validate(mut self, validate: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        self.validate = Some(Box::new(validate));
        self
    }

    /// Creates `prefill` objects at `build()`, idle and ready. Allowed:
    /// `0..=max_idle`.
    pub fn prefill(mut self, prefill: usize) -> Self {
        self.prefill = prefill;
        self
    }

    /// Drops objects that sat idle longer than this. Applied lazily when
    /// the pool looks at idle objects during gets and returns (no
    /// background thread): a get never hands out an object idle for longer.
    /// Objects in the cache of a thread that stopped using the pool wait
    /// for that thread's next operation or exit. Allowed: more than zero.
    pub fn idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = Some(idle_timeout);
        self
    }

    /// The clock `idle_timeout` is measured with; tests inject one they
    /// advance by hand. Default [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Objects each thread keeps in its own cache in front of the shared
    /// stack: gets and returns served there take no lock and no atomic
    /// read-modify-write. They count as idle (and against `max_idle`). 0
    /// turns the caches off; capped pools never use them. Allowed:
    /// `0..=16`; default [`DEFAULT_THREAD_CACHE`].
    pub fn thread_cache(mut self, thread_cache: usize) -> Self {
        self.thread_cache = thread_cache;
        self
    }

    /// Keep the event counters (default `true`). With `false`, `stats()`
    /// reports `idle` only and zero for every counter and for `in_use`.
    pub fn stats(mut self, stats: bool) -> Self {
        self.stats = stats;
        self
    }

    /// Checks every option and builds the pool (creating `prefill`
    /// objects). Errors name the option and its allowed range.
    pub fn build(self) -> Result<ObjectPool<T>, Error> {
        if self.max_total == Some(0) {
            return Err(Error::invalid("max_total", 0, "1.."));
        }
        let max_idle = match (self.max_idle, self.max_total) {
            (Some(max_idle), Some(max_total)) if max_idle > max_total => {
                return Err(Error::invalid(
                    "max_idle",
                    max_idle,
                    format!("0..=max_total ({max_total})"),
                ));
            }
            (Some(max_idle), _) => max_idle,
            (None, Some(max_total)) => max_total,
            (None, None) => DEFAULT_MAX_IDLE,
        };
        if self.thread_cache > MAX_THREAD_CACHE {
            return Err(Error::invalid(
                "thread_cache",
                self.thread_cache,
                format!("0..={MAX_THREAD_CACHE}"),
            ));
        }
        if self.prefill > max_idle {
            return Err(Error::invalid(
                "prefill",
                self.prefill,
                format!("0..=max_idle ({max_idle})"),
            ));
        }
        if self.idle_timeout.is_some_and(|timeout| timeout.is_zero()) {
            return Err(Error::invalid("idle_timeout", "0s", "more than zero"));
        }
        let thread_cache = if self.max_total.is_some() {
            0
        } else {
            self.thread_cache.min(max_idle)
        };
        let plain_return = self.validate.is_none() && self.idle_timeout.is_none();
        let cfg = Config {
            plain_return,
            factory: self.factory,
            reset: self.reset,
            validate: self.validate,
            clock: self.clock,
            idle_timeout: self.idle_timeout,
            max_idle,
            max_total: self.max_total,
            thread_cache,
            stats: self.stats,
        };
        Ok(ObjectPool::from_core(Core::new(cfg, self.prefill)))
    }
}
