//! `ThreadPool::builder()…build()`: every option, each checked at
//! `build()` against its allowed range.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, RejectionPolicy};
use crate::error::Error;
use crate::panic::{self, PanicHandler, PanicPayload, ThreadHook};
use crate::policy::{OnDemand, ScalingPolicy};
use crate::pool::ThreadPool;
use crate::queue::UNBOUNDED;
use crate::shared::Shared;
use crate::state::MAX_THREADS;

/// How long a thread above `min_threads` stays idle before it exits, unless
/// set: tokio's blocking-pool default.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The prefix of thread names unless set (`p21-pool-0`, `p21-pool-1`, …).
pub const DEFAULT_THREAD_NAME: &str = "p21-pool";

/// Configures a [`ThreadPool`]; made by [`ThreadPool::builder`].
#[must_use = "a builder does nothing until `build()`"]
pub struct ThreadPoolBuilder {
    min_threads: usize,
    max_threads: Option<usize>,
    keep_alive: Duration,
    queue_capacity: Option<usize>,
    rejection: RejectionPolicy,
    thread_name: String,
    stack_size: Option<usize>,
    on_thread_start: Option<ThreadHook>,
    on_thread_stop: Option<ThreadHook>,
    panic_handler: Option<PanicHandler>,
    policy: Box<dyn ScalingPolicy>,
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolBuilder")
            .field("min_threads", &self.min_threads)
            .field("max_threads", &self.max_threads)
            .field("keep_alive", &self.keep_alive)
            .field("queue_capacity", &self.queue_capacity)
            .field("rejection", &self.rejection)
            .field("thread_name", &self.thread_name)
            .field("stack_size", &self.stack_size)
            .field("on_thread_start", &self.on_thread_start.is_some())
            .field("on_thread_stop", &self.on_thread_stop.is_some())
            .field("panic_handler", &self.panic_handler.is_some())
            .field("policy", &self.policy)
            .finish()
    }
}

impl ThreadPoolBuilder {
    pub(crate) fn new() -> Self {
        Self {
            min_threads: 0,
            max_threads: None,
            keep_alive: DEFAULT_KEEP_ALIVE,
            queue_capacity: None,
            rejection: RejectionPolicy::Reject,
            thread_name: DEFAULT_THREAD_NAME.to_string(),
            stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
            panic_handler: None,
            policy: Box::new(OnDemand),
        }
    }

    /// Threads kept alive however idle the pool is; `build()` starts them.
    /// Allowed: `0..=max_threads`; default 0.
    pub fn min_threads(mut self, min_threads: usize) -> Self {
        self.min_threads = min_threads;
        self
    }

    /// The most threads the pool runs at once. Allowed:
    /// `1..=`[`MAX_THREADS`](crate::MAX_THREADS) and at least
    /// `min_threads`; default the number of CPUs (or `min_threads` if
    /// larger) — right for CPU-bound work; raise it for tasks that block.
    pub fn max_threads(mut self, max_threads: usize) -> Self {
        self.max_threads = Some(max_threads);
        self
    }

    /// How long a thread above `min_threads` stays idle before it exits.
    /// Any duration (zero: a thread exits as soon as it finds nothing to
    /// do, after a few microseconds of spinning); default
    /// [`DEFAULT_KEEP_ALIVE`].
    pub fn keep_alive(mut self, keep_alive: Duration) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// Bounds the queue of tasks waiting to start; when it is full, the
    /// [`rejection`](Self::rejection) policy decides. Allowed: `1..=2^48`;
    /// default unbounded.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = Some(capacity);
        self
    }

    /// What a submission does when the queue is full; default
    /// [`RejectionPolicy::Reject`].
    pub fn rejection(mut self, rejection: RejectionPolicy) -> Self {
        self.rejection = rejection;
        self
    }

    /// The prefix of the threads' names (`<prefix>-<n>`). Allowed: no NUL
    /// byte; default [`DEFAULT_THREAD_NAME`].
    pub fn thread_name(mut self, prefix: impl Into<String>) -> Self {
        self.thread_name = prefix.into();
        self
    }

    /// Each thread's stack size in bytes (the OS rounds tiny values up to
    /// its minimum). Allowed: `1..`; default Rust's (2 MiB, or
    /// `RUST_MIN_STACK`).
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Runs on each new thread before its first task. A panic is logged
    /// and does not stop the thread.
    pub fn on_thread_start(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_thread_start = Some(Arc::new(hook));
        self
    }

    /// Runs on each thread as it exits (retired or at shutdown). A panic is
    /// logged.
    pub fn on_thread_stop(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_thread_stop = Some(Arc::new(hook));
        self
    }

    /// Receives the panic of every task that no [`TaskHandle`](crate::TaskHandle)
    /// will receive (tasks run with `execute`, and spawned tasks whose
    /// handle was dropped), on the thread that ran it. Default: a
    /// `tracing` error event with the message. Every panic is counted in
    /// [`Stats::panicked`](crate::Stats::panicked) either way.
    pub fn panic_handler(mut self, handler: impl Fn(PanicPayload) + Send + Sync + 'static) -> Self {
        self.panic_handler = Some(Arc::new(handler));
        self
    }

    /// When threads start and retire; default [`OnDemand`].
    pub fn scaling(mut self, policy: impl ScalingPolicy) -> Self {
        self.policy = Box::new(policy);
        self
    }

    /// Checks every option and starts the initial threads (`min_threads`,
    /// or what the scaling policy asks for).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the first option out of range;
    /// [`Error::Spawn`] if the OS refuses a thread (those already started
    /// are stopped).
    pub fn build(self) -> Result<ThreadPool, Error> {
        let config = self.check()?;
        let initial = config
            .policy
            .initial_threads(config.min_threads, config.max_threads)
            .clamp(config.min_threads, config.max_threads);
        let pool = ThreadPool::from_shared(Arc::new(Shared::new(config)));
        let shared = pool.shared();
        for _ in 0..initial {
            let seen = shared.workers.load();
            if shared
                .workers
                .try_add_thread(seen, shared.config.max_threads, true)
                .is_err()
            {
                // Only this thread changes the word yet: cannot happen.
                continue;
            }
            // On failure the pool is dropped: its threads are joined.
            shared.start_thread(seen.threads() + 1, "initial thread", true)?;
        }
        Ok(pool)
    }

    fn check(self) -> Result<Config, Error> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let max_threads = self
            .max_threads
            .unwrap_or_else(|| cpus.max(self.min_threads).min(MAX_THREADS));
        if !(1..=MAX_THREADS).contains(&max_threads) {
            return Err(Error::invalid(
                "max_threads",
                max_threads,
                format!("1..={MAX_THREADS}"),
            ));
        }
        if self.min_threads > max_threads {
            return Err(Error::invalid(
                "min_threads",
                self.min_threads,
                format!("0..=max_threads ({max_threads})"),
            ));
        }
        if let Some(capacity) = self.queue_capacity
            && !(1..=UNBOUNDED).contains(&capacity)
        {
            return Err(Error::invalid(
                "queue_capacity",
                capacity,
                format!("1..={UNBOUNDED}"),
            ));
        }
        if self.thread_name.contains('\0') {
            return Err(Error::invalid(
                "thread_name",
                format!("{:?}", self.thread_name),
                "a name without NUL bytes",
            ));
        }
        if self.stack_size == Some(0) {
            return Err(Error::invalid("stack_size", 0, "1.. bytes"));
        }
        Ok(Config {
            min_threads: self.min_threads,
            max_threads,
            keep_alive: self.keep_alive,
            queue_capacity: self.queue_capacity,
            rejection: self.rejection,
            thread_name: self.thread_name,
            stack_size: self.stack_size,
            on_thread_start: self.on_thread_start,
            on_thread_stop: self.on_thread_stop,
            panic_handler: self
                .panic_handler
                .unwrap_or_else(|| Arc::new(panic::log_panic)),
            policy: self.policy,
        })
    }
}
