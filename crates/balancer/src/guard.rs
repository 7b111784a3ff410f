//! The guard a pick returns: it holds its endpoint, counts the request in
//! flight, measures its latency, and reports the outcome.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::set::Endpoint;

/// One picked request. Report how it went with [`success`](Self::success)
/// or [`failure`](Self::failure); dropping the guard unresolved counts the
/// request as cancelled (a timeout, a dropped future) — it neither rewards
/// nor penalises the endpoint.
///
/// The guard keeps its own endpoint alive: if the endpoint is removed from
/// the balancer meanwhile, the outcome is still recorded on that endpoint
/// (and in the balancer's totals) and never on another one.
///
/// It dereferences to the endpoint value.
#[must_use = "dropping the guard at once counts the request as cancelled"]
pub struct PickGuard<E: fmt::Debug> {
    endpoint: Arc<Endpoint<E>>,
    started: u64,
    probe: bool,
    resolved: bool,
}

impl<E: fmt::Debug> PickGuard<E> {
    pub(crate) fn start(endpoint: Arc<Endpoint<E>>, now: u64, probe: bool) -> Self {
        endpoint.core.in_flight.fetch_add(1, Ordering::Relaxed);
        endpoint
            .shared
            .totals
            .local()
            .requests
            .fetch_add(1, Ordering::Relaxed);
        Self {
            endpoint,
            started: now,
            probe,
            resolved: false,
        }
    }

    /// The picked endpoint's value.
    pub fn endpoint(&self) -> &E {
        &self.endpoint.value
    }

    /// Whether this request is the probation probe of an endpoint coming
    /// back from ejection (its outcome decides whether it fully returns).
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// Time since the pick, on the balancer's clock.
    pub fn elapsed(&self) -> Duration {
        let now = self.endpoint.shared.timeline.now();
        Duration::from_nanos(now.saturating_sub(self.started))
    }

    /// The request succeeded: records its latency, clears the endpoint's
    /// consecutive-failure count, and ends its probation if this was the
    /// probe.
    pub fn success(mut self) {
        self.resolve(Outcome::Success);
    }

    /// The request failed: records a failure (its latency counts as at
    /// least the failure penalty), and ejects the endpoint after enough
    /// consecutive failures or if this was its probation probe.
    pub fn failure(mut self) {
        self.resolve(Outcome::Failure);
    }

    fn resolve(&mut self, outcome: Outcome) {
        if self.resolved {
            return;
        }
        self.resolved = true;
        let endpoint = &*self.endpoint;
        let core = &endpoint.core;
        let totals = endpoint.shared.totals.local();
        core.in_flight.fetch_sub(1, Ordering::Relaxed);
        match outcome {
            Outcome::Cancelled => {
                core.cancelled.fetch_add(1, Ordering::Relaxed);
                totals.cancelled.fetch_add(1, Ordering::Relaxed);
                if self.probe {
                    core.probe.store(false, Ordering::Release);
                }
            }
            Outcome::Success | Outcome::Failure => {
                let now = endpoint.shared.timeline.now();
                let latency = now.saturating_sub(self.started);
                let failed = matches!(outcome, Outcome::Failure);
                core.observe(now, latency, failed, &endpoint.shared.settings);
                if failed {
                    core.failures.fetch_add(1, Ordering::Relaxed);
                    totals.failures.fetch_add(1, Ordering::Relaxed);
                    endpoint.on_failure(now, self.probe);
                } else {
                    core.successes.fetch_add(1, Ordering::Relaxed);
                    totals.successes.fetch_add(1, Ordering::Relaxed);
                    endpoint.on_success(now, self.probe);
                }
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Outcome {
    Success,
    Failure,
    Cancelled,
}

impl<E: fmt::Debug> Drop for PickGuard<E> {
    fn drop(&mut self) {
        self.resolve(Outcome::Cancelled);
    }
}

impl<E: fmt::Debug> Deref for PickGuard<E> {
    type Target = E;
    fn deref(&self) -> &E {
        &self.endpoint.value
    }
}

impl<E: fmt::Debug> fmt::Debug for PickGuard<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PickGuard")
            .field("endpoint", &self.endpoint.value)
            .field("probe", &self.probe)
            .finish()
    }
}
