//! Passive outlier detection: ejection after consecutive failures, growing
//! ejection times, probation with one probe at a time, re-admission.
//! Every change of an endpoint's state happens here, under the balancer's
//! outlier lock, which also keeps the count of ejected endpoints.

use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::endpoint::{EJECTED, HEALTHY, PROBATION};
use crate::set::Endpoint;

impl<E: fmt::Debug> Endpoint<E> {
    pub(crate) fn on_success(&self, now: u64, probe: bool) {
        let core = &self.core;
        if core.consecutive_failures.load(Ordering::Relaxed) != 0 {
            core.consecutive_failures.store(0, Ordering::Relaxed);
        }
        if probe {
            self.readmit(now);
        }
    }

    pub(crate) fn on_failure(&self, now: u64, probe: bool) {
        let Some(outlier) = self.shared.settings.outlier else {
            return;
        };
        if probe {
            self.eject(now, true);
            return;
        }
        let failures = self
            .core
            .consecutive_failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if failures >= outlier.consecutive_failures
            && self.core.state.load(Ordering::Acquire) == HEALTHY
        {
            self.eject(now, false);
        }
    }

    /// Ejects the endpoint: from health (if the ejection cap allows) or
    /// again from probation after a failed probe.
    fn eject(&self, now: u64, from_probation: bool) {
        let core = &self.core;
        let Some(outlier) = self.shared.settings.outlier else {
            return;
        };
        let mut counts = self.shared.outlier.lock();
        let state = core.state.load(Ordering::Acquire);
        if core.removed.load(Ordering::Acquire)
            || (from_probation && state != PROBATION)
            || (!from_probation && state != HEALTHY)
        {
            if from_probation {
                core.probe.store(false, Ordering::Release);
            }
            return;
        }
        if !from_probation {
            let cap = outlier.max_ejected(counts.endpoints);
            if counts.ejected >= cap {
                // Refused: the run of failures starts over, so the endpoint
                // needs a fresh run (and this lock) only after another
                // `consecutive_failures` failures, not on every one.
                core.consecutive_failures.store(0, Ordering::Relaxed);
                self.shared
                    .totals
                    .local()
                    .ejections_overflow
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    target: "perfect21_balancer",
                    endpoint = ?self.value,
                    ejected = counts.ejected,
                    cap,
                    "endpoint not ejected: max_ejection_percent reached"
                );
                return;
            }
            counts.ejected += 1;
            self.shared.recount(&counts);
        }
        let mut book = core.book.lock();
        if !from_probation {
            // Each full base ejection time spent healthy takes one step off
            // the multiplier.
            let periods = now.saturating_sub(book.healthy_since) / outlier.base_ejection_ns.max(1);
            book.multiplier = book
                .multiplier
                .saturating_sub(u32::try_from(periods).unwrap_or(u32::MAX));
        }
        book.multiplier = book.multiplier.saturating_add(1);
        let ejection = outlier.ejection_ns(book.multiplier);
        core.until
            .store(now.saturating_add(ejection), Ordering::Release);
        core.state.store(EJECTED, Ordering::Release);
        core.consecutive_failures.store(0, Ordering::Relaxed);
        core.probe.store(false, Ordering::Release);
        let times = core.times_ejected.fetch_add(1, Ordering::Relaxed) + 1;
        self.shared
            .totals
            .local()
            .ejections
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            target: "perfect21_balancer",
            endpoint = ?self.value,
            ejection = ?Duration::from_nanos(ejection),
            times_ejected = times,
            after_probe = from_probation,
            "endpoint ejected"
        );
    }

    /// The probation probe succeeded: the endpoint fully returns.
    fn readmit(&self, now: u64) {
        let core = &self.core;
        let mut counts = self.shared.outlier.lock();
        if core.state.load(Ordering::Acquire) == PROBATION {
            core.state.store(HEALTHY, Ordering::Release);
            if !core.removed.load(Ordering::Acquire) {
                counts.ejected = counts.ejected.saturating_sub(1);
                self.shared.recount(&counts);
            }
            core.book.lock().healthy_since = now;
            core.consecutive_failures.store(0, Ordering::Relaxed);
            tracing::info!(
                target: "perfect21_balancer",
                endpoint = ?self.value,
                "endpoint re-admitted after a successful probe"
            );
        }
        core.probe.store(false, Ordering::Release);
    }

    /// An active health check passed: the ejection ends now, so the next
    /// pick may send the probation probe. Returns whether it was ejected.
    pub(crate) fn end_ejection(&self, now: u64) -> bool {
        let core = &self.core;
        let _counts = self.shared.outlier.lock();
        if core.state.load(Ordering::Acquire) == EJECTED && now < core.until.load(Ordering::Acquire)
        {
            core.until.store(now, Ordering::Release);
            tracing::info!(
                target: "perfect21_balancer",
                endpoint = ?self.value,
                "health check passed: ejection ended, probation starts"
            );
            return true;
        }
        false
    }
}
