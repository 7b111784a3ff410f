//! `ThreadPool::builder()…build()`: every option, each checked at
//! `build()` against its allowed range.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, RejectionPolicy};
use crate::error::Error;
use crate::panic::{self, PanicPayload};
use crate::policy::{OnDemand, ScalingPolicy};
use crate::pool::ThreadPool;
use crate::pool_state::PoolState;
use crate::queue::UNBOUNDED;
use crate::state::MAX_THREADS;

/// How long a thread above `min_threads` stays idle before it exits, unless
/// set: tokio's blocking-pool default.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The prefix of thread names unless set (`p21-pool-0`, `p21-pool-1`, …).
pub const DEFAULT_THREAD_NAME: &str = "p21-pool";

/// Configures a [`ThreadPool`]; made by [`ThreadPool::builder`].
#[must_use = "a builder does nothing until `build()`"]
#[derive(Debug)]
pub struct ThreadPoolBuilder {
    config: Config,
    /// `max_threads` was set: otherwise it follows `min_threads` up.
    max_set: bool,
}

impl ThreadPoolBuilder {
    pub(crate) fn new() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            config: Config {
                min_threads: 0,
                max_threads: cpus.min(MAX_THREADS),
                keep_alive: DEFAULT_KEEP_ALIVE,
                queue_capacity: None,
                rejection: RejectionPolicy::Reject,
                thread_name: DEFAULT_THREAD_NAME.to_string(),
                stack_size: None,
                on_thread_start: None,
                on_thread_stop: None,
                panic_handler: Arc::new(panic::log_panic),
                policy: Box::new(OnDemand),
            },
            max_set: false,
        }
    }

    /// Threads kept alive however idle the pool is; `build()` starts them.
    /// Allowed: `0..=max_threads`; default 0.
    pub fn min_threads(mut self, min_threads: usize) -> Self {
        self.config.min_threads = min_threads;
        self
    }

    /// The most threads the pool runs at once. Allowed:
    /// `1..=`[`MAX_THREADS`](crate::MAX_THREADS) and at least
    /// `min_threads`; default the number of CPUs (or `min_threads` if
    /// larger) — right for CPU-bound work; raise it for tasks that block.
    pub fn max_threads(mut self, max_threads: usize) -> Self {
        self.config.max_threads = max_threads;
        self.max_set = true;
        self
    }

    /// How long a thread above `min_threads` stays idle before it exits.
    /// Any duration (zero: a thread exits as soon as it finds nothing to
    /// do, after a few microseconds of spinning); default
    /// [`DEFAULT_KEEP_ALIVE`].
    pub fn keep_alive(mut self, keep_alive: Duration) -> Self {
        self.config.keep_alive = keep_alive;
        self
    }

    /// Bounds the queue of tasks waiting to start; when it is full, the
    /// [`rejection`](Self::rejection) policy decides. Allowed: `1..=2^48`;
    /// default unbounded.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.config.queue_capacity = Some(capacity);
        self
    }

    /// What a submission does when the queue is full; default
    /// [`RejectionPolicy::Reject`].
    pub fn rejection(mut self, rejection: RejectionPolicy) -> Self {
        self.config.rejection = rejection;
        self
    }

    /// The prefix of the threads' names (`<prefix>-<n>`). Allowed: no NUL
    /// byte; default [`DEFAULT_THREAD_NAME`].
    pub fn thread_name(mut self, prefix: impl Into<String>) -> Self {
        self.config.thread_name = prefix.into();
        self
    }

    /// Each thread's stack size in bytes (the OS rounds tiny values up to
    /// its minimum). Allowed: `1..`; default Rust's (2 MiB, or
    /// `RUST_MIN_STACK`).
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.config.stack_size = Some(bytes);
        self
    }

    /// Runs on each new thread before its first task. A panic is logged
    /// and does not stop the thread.
    pub fn on_thread_start(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.config.on_thread_start = Some(Arc::new(hook));
        self
    }

    /// Runs on each thread as it exits (retired or at shutdown). A panic is
    /// logged.
    pub fn on_thread_stop(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.config.on_thread_stop = Some(Arc::new(hook));
        self
    }

    /// Receives the panic of every task that no [`TaskHandle`](crate::TaskHandle)
    /// will receive (tasks run with `execute`, and spawned tasks whose
    /// handle was dropped), on the thread that ran it. Default: a
    /// `tracing` error event with the message. Every panic is counted in
    /// [`Stats::panicked`](crate::Stats::panicked) either way.
    pub fn panic_handler(mut self, handler: impl Fn(PanicPayload) + Send + Sync + 'static) -> Self {
        self.config.panic_handler = Arc::new(handler);
        self
    }

    /// When threads start and retire; default [`OnDemand`].
    pub fn scaling(mut self, policy: impl ScalingPolicy) -> Self {
        self.config.policy = Box::new(policy);
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
        // A panic in the policy counts as no opinion: `min_threads`.
        let (min, max) = (config.min_threads, config.max_threads);
        let asked = catch_unwind(AssertUnwindSafe(|| config.policy.initial_threads(min, max)));
        let initial = match asked {
            Ok(initial) => initial.clamp(min, max),
            Err(payload) => {
                tracing::error!(
                    target: "perfect21_thread_pool",
                    panic = %panic::panic_message(payload.as_ref()),
                    "the scaling policy panicked in initial_threads; starting min_threads"
                );
                panic::drop_quietly(payload);
                min
            }
        };
        let pool = ThreadPool::from_shared(Arc::new(PoolState::new(config)));
        let shared = pool.shared();
        for _ in 0..initial {
            // The threads started so far change the word too (a spinning
            // one parks): read it again until the add lands. Nothing else
            // adds threads before `build` returns and initial ≤ max, so the
            // add can only lose such a race, not be refused.
            let mut seen = shared.workers.load();
            loop {
                match shared
                    .workers
                    .try_add_thread(seen, shared.config.max_threads, true)
                {
                    Ok(()) => break,
                    Err(now) if now.threads() < shared.config.max_threads && !now.is_closed() => {
                        seen = now;
                    }
                    Err(_) => return Ok(pool),
                }
            }
            // On failure the pool is dropped: its threads are joined.
            shared.start_thread(seen.threads() + 1, "initial thread", true)?;
        }
        Ok(pool)
    }

    fn check(self) -> Result<Config, Error> {
        let mut config = self.config;
        if !self.max_set {
            config.max_threads = config.max_threads.max(config.min_threads).min(MAX_THREADS);
        }
        let max_threads = config.max_threads;
        if !(1..=MAX_THREADS).contains(&max_threads) {
            return Err(Error::invalid(
                "max_threads",
                max_threads,
                format!("1..={MAX_THREADS}"),
            ));
        }
        if config.min_threads > max_threads {
            return Err(Error::invalid(
                "min_threads",
                config.min_threads,
                format!("0..=max_threads ({max_threads})"),
            ));
        }
        if let Some(capacity) = config.queue_capacity
            && !(1..=UNBOUNDED).contains(&capacity)
        {
            return Err(Error::invalid(
                "queue_capacity",
                capacity,
                format!("1..={UNBOUNDED}"),
            ));
        }
        if config.thread_name.contains('\0') {
            return Err(Error::invalid(
                "thread_name",
                format!("{:?}", config.thread_name),
                "a name without NUL bytes",
            ));
        }
        if config.stack_size == Some(0) {
            return Err(Error::invalid("stack_size", 0, "1.. bytes"));
        }
        Ok(config)
    }
}
