//! When the pool starts and retires threads: the [`ScalingPolicy`] trait
//! and the three policies that ship with the crate.
//!
//! Whatever the policy, the pool never runs more than `max_threads` nor
//! retires below `min_threads`, and it always starts a thread for a task
//! that arrives when no thread exists, so every accepted task runs.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The pool as a policy sees it when it is asked to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Load {
    /// Threads now (running a task or idle).
    pub threads: usize,
    /// Idle threads now (spinning or parked).
    pub idle: usize,
    /// Tasks waiting to start.
    pub queued: usize,
    /// The pool's `min_threads`.
    pub min_threads: usize,
    /// The pool's `max_threads`.
    pub max_threads: usize,
    /// When the question is asked.
    pub now: Instant,
}

impl Load {
    /// A load, for testing a policy.
    pub fn new(
        threads: usize,
        idle: usize,
        queued: usize,
        min_threads: usize,
        max_threads: usize,
        now: Instant,
    ) -> Self {
        Self {
            threads,
            idle,
            queued,
            min_threads,
            max_threads,
            now,
        }
    }
}

/// Decides when the pool grows and shrinks.
///
/// The pool asks [`grow`](Self::grow) when a task arrives, no worker is
/// idle and fewer than `max_threads` threads exist; and
/// [`retire`](Self::retire) when a thread above `min_threads` has been idle
/// for `keep_alive`. A panic in a policy is caught and logged, and counts
/// as "no" (in [`initial_threads`](Self::initial_threads): `min_threads`).
pub trait ScalingPolicy: Send + Sync + fmt::Debug + 'static {
    /// Threads `build()` starts, clamped to `min_threads..=max_threads`.
    /// Default: `min_threads`.
    fn initial_threads(&self, min_threads: usize, max_threads: usize) -> usize {
        let _ = max_threads;
        min_threads
    }

    /// A task is queued and no worker is idle: start a thread for it now?
    /// (`false`: the task waits for a busy thread.)
    fn grow(&self, load: &Load) -> bool;

    /// A thread above `min_threads` has been idle for `keep_alive`: let it
    /// exit? (`false`: it waits another `keep_alive`.)
    fn retire(&self, load: &Load) -> bool;
}

/// The default: a task that finds no idle worker starts a thread at once
/// (below `max_threads`) — tokio's blocking-pool rule, so a burst is
/// absorbed in microseconds — and a thread idle for `keep_alive` exits
/// (above `min_threads`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OnDemand;

impl ScalingPolicy for OnDemand {
    fn grow(&self, _: &Load) -> bool {
        true
    }

    fn retire(&self, _: &Load) -> bool {
        true
    }
}

/// A fixed pool: `build()` starts `max_threads` threads, which never exit
/// until shutdown; nothing grows or shrinks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fixed;

impl ScalingPolicy for Fixed {
    fn initial_threads(&self, _: usize, max_threads: usize) -> usize {
        max_threads
    }

    fn grow(&self, _: &Load) -> bool {
        false
    }

    fn retire(&self, _: &Load) -> bool {
        false
    }
}

/// The rule of the performance guide Perfect21 started from, kept for
/// comparison: a target size that doubles when tasks are waiting and halves
/// when more than half the threads are idle, at most once per `cooldown`
/// (the guide used 30 s). Between resizes the pool fills up to the target
/// and no further, so a burst waits for the next resize.
#[derive(Debug)]
pub struct BacklogDoubling {
    cooldown: Duration,
    state: Mutex<Target>,
}

#[derive(Debug, Clone, Copy)]
struct Target {
    /// Threads the pool may have; 0 until the first decision.
    size: usize,
    last_resize: Option<Instant>,
}

impl BacklogDoubling {
    /// The guide's rule with `cooldown` between two resizes.
    pub fn new(cooldown: Duration) -> Self {
        Self {
            cooldown,
            state: Mutex::new(Target {
                size: 0,
                last_resize: None,
            }),
        }
    }

    /// The target size now (0 before the first decision).
    pub fn target(&self) -> usize {
        self.lock().size
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Target> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn decide(&self, load: &Load, resize: impl FnOnce(usize) -> Option<usize>) -> usize {
        let floor = load.min_threads.max(1);
        let mut target = self.lock();
        if target.size == 0 {
            target.size = load.threads.clamp(floor, load.max_threads.max(floor));
        }
        let cooled = target
            .last_resize
            .is_none_or(|last| load.now.saturating_duration_since(last) >= self.cooldown);
        if cooled && let Some(size) = resize(target.size) {
            let size = size.clamp(floor, load.max_threads.max(floor));
            if size != target.size {
                tracing::debug!(
                    target: "perfect21_thread_pool",
                    from = target.size,
                    to = size,
                    "backlog-doubling policy resized its target"
                );
                target.size = size;
                target.last_resize = Some(load.now);
            }
        }
        target.size
    }
}

impl Default for BacklogDoubling {
    /// The guide's 30 s cooldown.
    fn default() -> Self {
        Self::new(Duration::from_secs(30))
    }
}

impl ScalingPolicy for BacklogDoubling {
    fn grow(&self, load: &Load) -> bool {
        let target = self.decide(load, |size| {
            (load.threads >= size && load.queued > 0).then(|| size.saturating_mul(2))
        });
        load.threads < target
    }

    fn retire(&self, load: &Load) -> bool {
        let target = self.decide(load, |size| {
            (load.threads <= size && load.queued == 0 && load.idle * 2 > load.threads)
                .then_some(size / 2)
        });
        load.threads > target
    }
}
