//! The builder: every option validated at `build()`, an invalid one refused
//! with a [`ConfigError`] naming it and its allowed range.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;

use crate::batcher::Batcher;
use crate::config::Config;
use crate::error::ConfigError;
use crate::keyed::KeyedBatcher;
use crate::policy::FlushPolicy;
use crate::shared::{BatchFn, Shared};
use crate::stats::Counters;
use crate::timer;

/// Builds a [`Batcher`] (from [`Batcher::builder`]) or a [`KeyedBatcher`]
/// (from [`KeyedBatcher::builder`], as [`KeyedBatcherBuilder`]); `B` is
/// what [`build`](Self::build) returns.
#[must_use = "a builder does nothing until build() is called"]
pub struct BatcherBuilder<I, O, E, B = Batcher<I, O, E>> {
    batch_fn: BatchFn<I, O, E>,
    config: Config,
    runtime: Option<Handle>,
    counters: Arc<Counters>,
    _builds: PhantomData<fn() -> B>,
}

/// The builder of a [`KeyedBatcher`].
pub type KeyedBatcherBuilder<K, V, E> = BatcherBuilder<K, Option<V>, E, KeyedBatcher<K, V, E>>;

impl<I, O, E, B> BatcherBuilder<I, O, E, B>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    /// `counters` are the batcher's; the keyed form's load function writes
    /// its de-duplication counts there too.
    pub(crate) fn new(batch_fn: BatchFn<I, O, E>, counters: Arc<Counters>) -> Self {
        Self {
            batch_fn,
            config: Config::default(),
            runtime: None,
            counters,
            _builds: PhantomData,
        }
    }

    /// Names the batcher in its tracing spans and events. Default
    /// `"batcher"`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }

    /// The most items in one batch: `1 ..= 1048576`, default 128. Under
    /// [`FlushPolicy::Fixed`] a batch is dispatched as soon as this many
    /// items are queued.
    pub fn max_batch_size(mut self, max_batch_size: usize) -> Self {
        self.config.max_batch_size = max_batch_size;
        self
    }

    /// Under [`FlushPolicy::Fixed`], the longest an item waits for its
    /// batch to fill: `0 ..= 1 hour`, default 5 ms. Not used by the eager
    /// policy.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.config.max_wait = max_wait;
        self
    }

    /// The most batches running at once: `1 ..= 65536`, default 4. A ready
    /// batch waits for a free slot; meanwhile more items join it.
    pub fn max_concurrent_batches(mut self, max_concurrent_batches: usize) -> Self {
        self.config.max_concurrent_batches = max_concurrent_batches;
        self
    }

    /// The most items waiting for a batch: `1 ..= 1073741824`, default
    /// 16384. When full, `submit` waits for room and `try_submit` hands the
    /// item back. Items in running batches do not count.
    pub fn queue_capacity(mut self, queue_capacity: usize) -> Self {
        self.config.queue_capacity = queue_capacity;
        self
    }

    /// Fails a batch whose function has not finished after this long
    /// (`1 ns ..= 24 hours`; default: no timeout). Its future is dropped
    /// and its items get [`BatchError::Timeout`](crate::BatchError::Timeout).
    pub fn batch_timeout(mut self, batch_timeout: Duration) -> Self {
        self.config.batch_timeout = Some(batch_timeout);
        self
    }

    /// When batches are dispatched. Default [`FlushPolicy::Eager`].
    pub fn flush_policy(mut self, policy: FlushPolicy) -> Self {
        self.config.policy = policy;
        self
    }

    /// The tokio runtime that runs the batches (and the timer). Default:
    /// the runtime `build()` is called in.
    pub fn runtime(mut self, runtime: Handle) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Checks the options and starts the batcher's shared state (and, for
    /// [`FlushPolicy::Fixed`], its timer task).
    fn start(self) -> Result<Batcher<I, O, E>, ConfigError> {
        self.config.validate()?;
        let runtime = match self.runtime {
            Some(runtime) => runtime,
            None => Handle::try_current().map_err(|_| ConfigError::NoRuntime)?,
        };
        let policy = self.config.policy;
        let shared = Arc::new(Shared::new(
            self.config,
            self.batch_fn,
            self.counters,
            runtime.clone(),
        ));
        if policy == FlushPolicy::Fixed {
            drop(runtime.spawn(timer::run(Arc::clone(&shared))));
        }
        Ok(Batcher::from_shared(shared))
    }
}

impl<I, O, E> BatcherBuilder<I, O, E, Batcher<I, O, E>>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    /// Checks every option and starts the batcher. Must run inside a tokio
    /// runtime unless one was given with [`runtime`](Self::runtime).
    pub fn build(self) -> Result<Batcher<I, O, E>, ConfigError> {
        self.start()
    }
}

impl<K, V, E> KeyedBatcherBuilder<K, V, E>
where
    K: Send + 'static,
    V: Send + 'static,
    E: Clone + Send + 'static,
{
    /// Checks every option and starts the keyed batcher. Must run inside a
    /// tokio runtime unless one was given with [`runtime`](Self::runtime).
    pub fn build(self) -> Result<KeyedBatcher<K, V, E>, ConfigError> {
        self.start().map(KeyedBatcher::from_batcher)
    }
}

impl<I, O, E, B> fmt::Debug for BatcherBuilder<I, O, E, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatcherBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
