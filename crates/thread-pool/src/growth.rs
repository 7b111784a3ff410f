//! Growth: asking the scaling policy (a panic in it counts as "no"), and
//! starting a thread already counted in the state word.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Instant;

use crate::error::Error;
use crate::panic::{drop_quietly, panic_message};
use crate::parker::Parker;
use crate::policy::Load;
use crate::pool_state::PoolState;
use crate::state::Snapshot;
use crate::stats::Event;
use crate::sync::thread;
use crate::worker;

impl PoolState {
    /// Asks the scaling policy; a panic in it counts as "no".
    pub(crate) fn ask_policy(
        &self,
        question: impl FnOnce(&dyn crate::ScalingPolicy, &Load) -> bool,
        seen: Snapshot,
    ) -> bool {
        let load = Load::new(
            seen.threads(),
            seen.idle(),
            self.queue.len(),
            self.config.min_threads,
            self.config.max_threads,
            Instant::now(),
        );
        let policy = &*self.config.policy;
        match catch_unwind(AssertUnwindSafe(|| question(policy, &load))) {
            Ok(answer) => answer,
            Err(payload) => {
                tracing::error!(
                    target: "perfect21_thread_pool",
                    panic = %panic_message(payload.as_ref()),
                    "the scaling policy panicked; treated as \"no\""
                );
                drop_quietly(payload);
                false
            }
        }
    }

    /// Starts a thread already counted in the state word (`threads` is the
    /// count including it; `idle`: counted with a spinning token).
    pub(crate) fn start_thread(
        self: &Arc<Self>,
        threads: usize,
        reason: &'static str,
        idle: bool,
    ) -> Result<(), Error> {
        let name = format!(
            "{}-{}",
            self.config.thread_name,
            self.next_thread.fetch_add(1, SeqCst)
        );
        let shared = Arc::clone(self);
        let parker = Arc::new(Parker::new());
        let mut builder = thread::Builder::new().name(name);
        if let Some(size) = self.config.stack_size {
            builder = builder.stack_size(size);
        }
        match self
            .threads
            .start(move || builder.spawn(move || worker::run(shared, parker, idle)))
        {
            Ok(()) => {
                self.counters.add(Event::ThreadStarted, 1);
                self.counters.saw_threads(threads);
                tracing::debug!(target: "perfect21_thread_pool", threads, reason, "thread started");
                Ok(())
            }
            Err(error) => {
                self.threads.update(|| {
                    if idle {
                        self.workers.withdraw_token();
                    }
                    self.workers.thread_exited();
                });
                self.notify_quiet();
                tracing::error!(
                    target: "perfect21_thread_pool",
                    %error,
                    threads = threads - 1,
                    "the OS refused to start a pool thread"
                );
                Err(Error::Spawn {
                    message: error.to_string(),
                })
            }
        }
    }
}
