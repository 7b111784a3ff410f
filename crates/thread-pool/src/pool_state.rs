//! `PoolState`: what the pool's handles and workers share — the
//! configuration, the queue, the workers' state word, the idle stack, the
//! thread registry, the counters and `wait_idle`'s waiters. Its behaviour
//! lives in one file per idea: `submit.rs`, `handoff.rs`, `growth.rs`,
//! `run_task.rs`, `wait_idle.rs`, `shutdown.rs`, `stats.rs`.

use std::sync::Arc;

use crate::config::Config;
use crate::idle::IdleStack;
use crate::queue::{TaskQueue, UNBOUNDED};
use crate::registry::Registry;
use crate::state::Workers;
use crate::stats::Counters;
use crate::wait_idle::Quiet;
use crate::worker;

#[derive(Debug)]
pub(crate) struct PoolState {
    pub(crate) config: Config,
    pub(crate) queue: TaskQueue,
    pub(crate) workers: Workers,
    pub(crate) idle: IdleStack,
    pub(crate) threads: Registry,
    pub(crate) counters: Counters,
    pub(crate) quiet: Quiet,
    pub(crate) next_thread: std::sync::atomic::AtomicUsize,
}

impl PoolState {
    pub(crate) fn new(config: Config) -> Self {
        let capacity = config.queue_capacity.unwrap_or(UNBOUNDED);
        Self {
            config,
            queue: TaskQueue::new(capacity),
            workers: Workers::new(),
            idle: IdleStack::new(),
            threads: Registry::new(),
            counters: Counters::new(),
            quiet: Quiet::new(),
            next_thread: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// An identity for "is this thread one of my workers".
    pub(crate) fn id(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }

    pub(crate) fn on_own_worker(self: &Arc<Self>) -> bool {
        worker::current_pool() == self.id()
    }
}
