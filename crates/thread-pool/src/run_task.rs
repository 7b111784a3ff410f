//! Running a task: its panic caught, an unclaimed panic handed to the
//! panic handler, and (outside a worker) its counts.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::panic;
use crate::pool_state::PoolState;
use crate::stats::Event;
use crate::task::{Outcome, Task};

impl PoolState {
    /// Runs a task, catching what its `run` does not (a panicking
    /// destructor); an unclaimed panic goes to the panic handler. Returns
    /// whether it panicked.
    pub(crate) fn run_task(&self, task: Task) -> bool {
        let payload = match catch_unwind(AssertUnwindSafe(|| task.run())) {
            Ok(Outcome::Completed) => return false,
            Ok(Outcome::Panicked(payload)) => payload,
            Err(payload) => Some(payload),
        };
        if let Some(payload) = payload {
            panic::deliver(&self.config.panic_handler, payload);
        }
        true
    }

    /// Runs a task outside a worker and counts it in the shared counters.
    pub(crate) fn run_counted(&self, task: Task) {
        self.counters.add(Event::Started, 1);
        let event = if self.run_task(task) {
            Event::Panicked
        } else {
            Event::Completed
        };
        self.counters.add(event, 1);
    }
}
