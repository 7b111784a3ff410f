//! Submission: admit a task under the rejection policy, count it, queue it
//! (or run it on the caller's thread) and give it its delivery.

use std::sync::Arc;
use std::time::Instant;

use crate::config::RejectionPolicy;
use crate::error::{Error, SubmitError};
use crate::pool_state::PoolState;
use crate::queue::{Admit, UNBOUNDED};
use crate::stats::Event;
use crate::sync;
use crate::task::Task;

/// How an admitted task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    Queue,
    CallerRuns,
}

impl PoolState {
    /// Admits `f` under the rejection policy and queues (or, for
    /// `CallerRuns`, runs) the task `into_task` makes of it; hands `f` back
    /// when it is refused.
    pub(crate) fn submit<F, T>(
        self: &Arc<Self>,
        f: F,
        into_task: impl FnOnce(F) -> (Task, T),
    ) -> Result<T, SubmitError<F>> {
        match self.admit() {
            Err(error) => Err(SubmitError::new(error, f)),
            Ok(Admission::Queue) => {
                // Counted before the push, so before any worker can start
                // it: no snapshot sees it run and not submitted.
                self.counters.submitted();
                let (task, output) = into_task(f);
                self.queue.push(task);
                self.deliver();
                Ok(output)
            }
            Ok(Admission::CallerRuns) => {
                let (task, output) = into_task(f);
                self.counters.submitted();
                self.counters.add(Event::CallerRuns, 1);
                self.run_counted(task);
                Ok(output)
            }
        }
    }

    fn admit(&self) -> Result<Admission, Error> {
        let capacity = self.config.queue_capacity.unwrap_or(UNBOUNDED);
        let mut waited = None;
        let admit = match self.queue.admit() {
            Admit::Full => match self.config.rejection {
                RejectionPolicy::Reject => Admit::Full,
                RejectionPolicy::CallerRuns => return Ok(Admission::CallerRuns),
                RejectionPolicy::Block { timeout } => {
                    let started = Instant::now();
                    let admit = self.queue.admit_waiting(sync::deadline(timeout));
                    waited = Some(started.elapsed());
                    admit
                }
            },
            admit => admit,
        };
        let error = match admit {
            Admit::Admitted => return Ok(Admission::Queue),
            Admit::Closed => Error::ShutDown,
            Admit::Full => match waited {
                Some(waited) => Error::Timeout { waited, capacity },
                None => Error::QueueFull { capacity },
            },
        };
        self.counters.add(Event::Rejected, 1);
        Err(error)
    }
}
