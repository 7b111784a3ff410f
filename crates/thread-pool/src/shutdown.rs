//! Shutdown: refuse new tasks, cancel or run the queued ones, join every
//! thread (see `registry.rs` for starts in flight).

use std::sync::Arc;

use crate::panic::drop_quietly;
use crate::pool_state::PoolState;
use crate::stats::Event;
use crate::sync::thread;

impl PoolState {
    /// Stops accepting tasks, cancels the queued ones if `cancel`, lets the
    /// workers finish the rest and joins them.
    pub(crate) fn shutdown(self: &Arc<Self>, cancel: bool) {
        if !self.queue.is_closed() {
            tracing::debug!(target: "perfect21_thread_pool", cancel, "shutting down");
        }
        self.queue.close();
        self.workers.close();
        if cancel {
            let mut cancelled = 0;
            while let Some(task) = self.queue.pop() {
                drop_quietly(task);
                cancelled += 1;
            }
            self.counters.add(Event::Cancelled, cancelled);
        }
        for worker in self.idle.claim_all(&self.workers) {
            worker.unpark();
        }
        self.join_all();
        self.notify_quiet();
    }

    /// Joins every thread but the caller's own (when a task shuts its pool
    /// down). Tasks left with no thread to run them — admitted while the
    /// last worker left, or after a thread failed to start — run here.
    fn join_all(self: &Arc<Self>) {
        let own = self.on_own_worker();
        let me = thread::current().id();
        loop {
            let mut handles = self.threads.lock();
            let taken = std::mem::take(&mut handles.handles);
            if taken.iter().all(|handle| handle.thread().id() == me) {
                let others = self
                    .workers
                    .load()
                    .threads()
                    .saturating_sub(usize::from(own));
                // A start in flight will record a handle to join, even if
                // its thread has already exited and left the count.
                if others == 0 && handles.starting == 0 {
                    drop(handles);
                    if self.queue.len() == 0 {
                        return;
                    }
                    while let Some(task) = self.queue.pop() {
                        self.run_counted(task);
                    }
                    continue;
                }
                // A thread being started or exiting: wait for its news.
                drop(match self.threads.changed.wait(handles) {
                    Ok(guard) => guard,
                    Err(poisoned) => poisoned.into_inner(),
                });
                continue;
            }
            drop(handles);
            for handle in taken {
                if handle.thread().id() != me {
                    // A worker catches every panic: `Err` cannot happen.
                    let _ = handle.join();
                }
            }
        }
    }
}
