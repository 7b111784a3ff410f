//! One statement execution in flight. It is recorded exactly once: when it
//! finishes, or — when its future is dropped first (a caller's timeout,
//! `select!`, a cancelled request) — as cancelled, with the time until the
//! drop. Recording after the `.await` alone would lose exactly the slow
//! statements one most wants to see.

use std::time::Duration;

use crate::clock::Instant;
use crate::outcome::Outcome;
use crate::registry::{Params, Registry};

pub(crate) struct Call<'a> {
    registry: &'a Registry,
    sql: &'a str,
    params: Params<'a>,
    start: Instant,
    recorded: bool,
}

impl<'a> Call<'a> {
    /// Starts the clock for `sql`.
    pub(crate) fn start(registry: &'a Registry, sql: &'a str, params: Params<'a>) -> Self {
        Self {
            registry,
            sql,
            params,
            start: Instant::now(),
            recorded: false,
        }
    }

    /// Records the finished call.
    pub(crate) fn finish(mut self, outcome: Outcome<'_>) {
        self.recorded = true;
        self.registry
            .record(self.sql, self.start.elapsed(), outcome, self.params);
    }

    /// Hands the call over to a row stream, which records it; returns when
    /// it started.
    pub(crate) fn hand_over(mut self) -> Instant {
        self.recorded = true;
        self.start
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        if !self.recorded {
            self.registry.record(
                self.sql,
                self.elapsed(),
                Outcome::Cancelled { rows: 0 },
                self.params,
            );
        }
    }
}
