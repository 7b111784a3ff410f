//! The balancer: a lock-free snapshot of the endpoint set, the strategy,
//! and the writers that change the set.

use std::fmt;
use std::hash::Hash;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use crate::builder::BalancerBuilder;
use crate::clock::{Clock, Timeline};
use crate::context::PickContext;
use crate::endpoint::{Core, EJECTED, HEALTHY, PROBATION};
use crate::error::Error;
use crate::guard::PickGuard;
use crate::health::HealthCheck;
use crate::set::{Endpoint, EndpointSet};
use crate::settings::Settings;
use crate::shared::{OutlierCounts, Shared, Totals};
use crate::stable_hash::stable_hash;
use crate::stats::{BalancerStats, EndpointStats};
use crate::strategy::Strategy;

/// Picks an endpoint of type `E` per request, with a [`Strategy`], passive
/// outlier ejection and per-endpoint stats. Cheap to clone (clones share
/// everything); picks from many threads never wait on a lock (except in
/// [`SmoothWeightedRoundRobin`](crate::SmoothWeightedRoundRobin), whose
/// algorithm is sequential).
pub struct Balancer<E> {
    inner: Arc<Inner<E>>,
}

struct Inner<E> {
    set: ArcSwap<EndpointSet<E>>,
    strategy: Box<dyn Strategy>,
    shared: Arc<Shared>,
    /// Serialises writers of the set; holds the last generation.
    writer: Mutex<u64>,
    health_check: Option<Box<dyn HealthCheck<E>>>,
}

impl<E> Clone for Balancer<E> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for Balancer<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self.inner.set.load();
        f.debug_struct("Balancer")
            .field("strategy", &self.inner.strategy)
            .field(
                "endpoints",
                &set.endpoints.iter().map(|e| &e.value).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<E> Balancer<E>
where
    E: Hash + Eq + fmt::Debug + Send + Sync + 'static,
{
    /// A builder with the defaults (see [`BalancerBuilder`]).
    pub fn builder() -> BalancerBuilder<E> {
        BalancerBuilder::default()
    }

    pub(crate) fn new(
        strategy: Box<dyn Strategy>,
        clock: Arc<dyn Clock>,
        settings: Settings,
        endpoints: Vec<(E, u32)>,
        health_check: Option<Box<dyn HealthCheck<E>>>,
    ) -> Self {
        let shared = Arc::new(Shared {
            timeline: Timeline::new(clock),
            settings,
            totals: Totals::default(),
            outlier: Mutex::new(OutlierCounts {
                endpoints: endpoints.len(),
                ejected: 0,
            }),
            panic: AtomicBool::new(false),
        });
        let now = shared.timeline.now();
        let endpoints = endpoints
            .into_iter()
            .map(|(value, weight)| new_endpoint(&shared, value, weight, now))
            .collect();
        Self {
            inner: Arc::new(Inner {
                set: ArcSwap::from_pointee(EndpointSet::new(endpoints, 0)),
                strategy,
                shared,
                writer: Mutex::new(0),
                health_check,
            }),
        }
    }

    /// Picks an endpoint for one request.
    ///
    /// # Errors
    /// [`Error::NoEndpoints`] for an empty set,
    /// [`Error::NoAvailableEndpoint`] when every endpoint is ejected (only
    /// possible with the panic threshold off: at its default every
    /// endpoint takes traffic once fewer than half are healthy),
    /// [`Error::KeyRequired`] for a hashing strategy.
    #[inline]
    pub fn pick(&self) -> Result<PickGuard<E>, Error> {
        if self.inner.strategy.requires_key() {
            return Err(Error::KeyRequired);
        }
        self.pick_hashed(None)
    }

    /// Picks an endpoint for a request with a routing key (a user id, a
    /// cache key): hashing strategies send the same key to the same
    /// endpoint; the others ignore the key. The key is hashed with 64-bit
    /// FNV-1a over the bytes its `Hash` writes, which does not change
    /// between processes, builds or Rust releases (on machines of the same
    /// endianness and pointer width): every instance of a service routes a
    /// key to the same endpoint.
    ///
    /// # Errors
    /// As [`pick`](Self::pick), without `KeyRequired`.
    pub fn pick_with_key<K: Hash + ?Sized>(&self, key: &K) -> Result<PickGuard<E>, Error> {
        self.pick_hashed(Some(stable_hash(key)))
    }

    fn pick_hashed(&self, key: Option<u64>) -> Result<PickGuard<E>, Error> {
        let inner = &*self.inner;
        let set = inner.set.load();
        if set.endpoints.is_empty() {
            return Err(Error::NoEndpoints);
        }
        let now = inner.shared.timeline.now();
        let panic = inner.shared.panic.load(Ordering::Relaxed);
        let ctx = PickContext {
            cores: &**set,
            now,
            key,
            settings: &inner.shared.settings,
            panic,
        };
        for _ in 0..4 {
            let Some(index) = inner.strategy.pick(&ctx) else {
                break;
            };
            let Some(endpoint) = set.endpoints.get(index) else {
                break;
            };
            if let Some((probe, admitted)) = endpoint.core.try_acquire(now, panic) {
                if panic {
                    inner
                        .shared
                        .totals
                        .local()
                        .panic_routed
                        .fetch_add(1, Ordering::Relaxed);
                }
                if admitted {
                    tracing::info!(
                        target: "perfect21_balancer",
                        endpoint = ?endpoint.value,
                        "ejection over: endpoint on probation, probe sent"
                    );
                }
                return Ok(PickGuard::start(Arc::clone(endpoint), now, probe));
            }
        }
        inner
            .shared
            .totals
            .local()
            .unavailable
            .fetch_add(1, Ordering::Relaxed);
        Err(Error::NoAvailableEndpoint)
    }

    /// Adds an endpoint of weight 1. It starts fresh: no counts, the
    /// default RTT, never ejected — also if it was in the set before.
    ///
    /// # Errors
    /// [`Error::DuplicateEndpoint`] if it is already in the set.
    pub fn add(&self, endpoint: E) -> Result<(), Error> {
        self.add_weighted(endpoint, 1)
    }

    /// Adds an endpoint with a weight.
    ///
    /// # Errors
    /// [`Error::InvalidWeight`] for weight 0, [`Error::DuplicateEndpoint`].
    pub fn add_weighted(&self, endpoint: E, weight: u32) -> Result<(), Error> {
        if weight == 0 {
            return Err(Error::InvalidWeight);
        }
        self.rebuild(|shared, endpoints| {
            if endpoints.iter().any(|e| e.value == endpoint) {
                return Err(Error::DuplicateEndpoint);
            }
            let now = shared.timeline.now();
            endpoints.push(new_endpoint(shared, endpoint, weight, now));
            let mut counts = shared.outlier.lock();
            counts.endpoints += 1;
            shared.recount(&counts);
            Ok(())
        })
    }

    /// Removes an endpoint. Guards already handed out for it stay valid
    /// and record their outcome on it (and in the totals), never on
    /// another endpoint.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`].
    pub fn remove(&self, endpoint: &E) -> Result<(), Error> {
        self.rebuild(|shared, endpoints| {
            let index = endpoints
                .iter()
                .position(|e| e.value == *endpoint)
                .ok_or(Error::UnknownEndpoint)?;
            let removed = endpoints.remove(index);
            let mut counts = shared.outlier.lock();
            counts.endpoints -= 1;
            if removed.core.is_ejected() {
                counts.ejected = counts.ejected.saturating_sub(1);
            }
            removed.core.removed.store(true, Ordering::Release);
            shared.recount(&counts);
            Ok(())
        })
    }

    /// Changes an endpoint's weight (at least 1); counts and state stay.
    ///
    /// # Errors
    /// [`Error::InvalidWeight`], [`Error::UnknownEndpoint`].
    pub fn set_weight(&self, endpoint: &E, weight: u32) -> Result<(), Error> {
        if weight == 0 {
            return Err(Error::InvalidWeight);
        }
        self.rebuild(|_, endpoints| {
            let found = endpoints
                .iter()
                .find(|e| e.value == *endpoint)
                .ok_or(Error::UnknownEndpoint)?;
            found.core.weight.store(weight, Ordering::Relaxed);
            Ok(())
        })
    }

    /// Publishes a new snapshot made by `change` from the current one.
    fn rebuild(
        &self,
        change: impl FnOnce(&Arc<Shared>, &mut Vec<Arc<Endpoint<E>>>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let inner = &*self.inner;
        let mut generation = inner.writer.lock();
        let mut endpoints = inner.set.load().endpoints.clone();
        change(&inner.shared, &mut endpoints)?;
        *generation += 1;
        inner
            .set
            .store(Arc::new(EndpointSet::new(endpoints, *generation)));
        Ok(())
    }

    /// How many endpoints the set holds (ejected ones included).
    pub fn len(&self) -> usize {
        self.inner.set.load().endpoints.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls the [`health_check`](BalancerBuilder::health_check) on every
    /// endpoint still inside its ejection time; each that passes has its
    /// ejection ended now, so the next pick sends it the probation probe
    /// (a successful probe then fully re-admits it). A check that panics
    /// counts as failed. Run it from your own timer; returns how many
    /// endpoints passed. Without a health check it does nothing.
    pub fn run_health_checks(&self) -> usize {
        let Some(check) = &self.inner.health_check else {
            return 0;
        };
        let set = self.inner.set.load_full();
        let mut passed = 0;
        for endpoint in &set.endpoints {
            let core = &endpoint.core;
            let now = self.inner.shared.timeline.now();
            if core.state.load(Ordering::Acquire) != EJECTED
                || now >= core.until.load(Ordering::Acquire)
            {
                continue;
            }
            let healthy =
                catch_unwind(AssertUnwindSafe(|| check.check(&endpoint.value))).unwrap_or(false);
            if healthy && endpoint.end_ejection(now) {
                passed += 1;
            }
        }
        passed
    }

    /// A snapshot of every counter. Per endpoint and in total,
    /// `requests = successes + failures + cancelled + in_flight` once the
    /// guards in flight are quiet.
    pub fn stats(&self) -> BalancerStats<E>
    where
        E: Clone,
    {
        let set = self.inner.set.load();
        let endpoints: Vec<EndpointStats<E>> = set
            .endpoints
            .iter()
            .map(|e| endpoint_stats(&e.value, &e.core))
            .collect();
        let totals = &self.inner.shared.totals;
        let requests = totals.sum(|t| &t.requests);
        let successes = totals.sum(|t| &t.successes);
        let failures = totals.sum(|t| &t.failures);
        let cancelled = totals.sum(|t| &t.cancelled);
        BalancerStats {
            requests,
            successes,
            failures,
            cancelled,
            in_flight: requests.saturating_sub(successes + failures + cancelled),
            unavailable: totals.sum(|t| &t.unavailable),
            ejections: totals.sum(|t| &t.ejections),
            ejections_overflow: totals.sum(|t| &t.ejections_overflow),
            panic_routed: totals.sum(|t| &t.panic_routed),
            ejected_now: endpoints.iter().filter(|e| e.ejected).count(),
            endpoints,
        }
    }
}

fn new_endpoint<E>(shared: &Arc<Shared>, value: E, weight: u32, now: u64) -> Arc<Endpoint<E>>
where
    E: Hash,
{
    let core = Core::new(weight, stable_hash(&value), now, &shared.settings);
    Arc::new(Endpoint {
        value,
        core,
        shared: Arc::clone(shared),
    })
}

fn endpoint_stats<E: Clone>(value: &E, core: &Core) -> EndpointStats<E> {
    let state = core.state.load(Ordering::Acquire);
    // Requests are not counted at pick time (one atomic fewer on the hot
    // path): every request is resolved one way or still in flight.
    let successes = core.successes.load(Ordering::Relaxed);
    let failures = core.failures.load(Ordering::Relaxed);
    let cancelled = core.cancelled.load(Ordering::Relaxed);
    let in_flight = core.in_flight.load(Ordering::Relaxed);
    EndpointStats {
        endpoint: value.clone(),
        weight: core.weight.load(Ordering::Relaxed),
        requests: successes + failures + cancelled + in_flight,
        successes,
        failures,
        cancelled,
        in_flight,
        ewma_latency: Duration::from_nanos(core.rtt_last() as u64),
        ejected: state != HEALTHY,
        on_probation: state == PROBATION,
        times_ejected: core.times_ejected.load(Ordering::Relaxed),
    }
}
