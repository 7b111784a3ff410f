//! The builder: every option, validated at `build()`.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use crate::balancer::Balancer;
use crate::clock::{Clock, SystemClock, nanos};
use crate::error::Error;
use crate::health::HealthCheck;
use crate::settings::{OutlierSettings, Settings};
use crate::strategy::{PeakEwma, Strategy};

/// Configures a [`Balancer`]; start with [`Balancer::builder`].
///
/// | option | default |
/// |---|---|
/// | [`strategy`](Self::strategy) | [`PeakEwma`] |
/// | [`consecutive_failures`](Self::consecutive_failures) | 5 |
/// | [`base_ejection_time`](Self::base_ejection_time) | 30 s |
/// | [`max_ejection_time`](Self::max_ejection_time) | 300 s |
/// | [`max_ejection_percent`](Self::max_ejection_percent) | 10 (at least one endpoint; 0: none) |
/// | [`panic_threshold_percent`](Self::panic_threshold_percent) | 50 |
/// | [`default_rtt`](Self::default_rtt) | 30 ms |
/// | [`ewma_decay`](Self::ewma_decay) | 10 s |
/// | [`failure_penalty`](Self::failure_penalty) | 500 ms |
/// | [`clock`](Self::clock) | [`SystemClock`] |
pub struct BalancerBuilder<E> {
    strategy: Box<dyn Strategy>,
    clock: Arc<dyn Clock>,
    endpoints: Vec<(E, u32)>,
    outlier_detection: bool,
    consecutive_failures: u32,
    base_ejection_time: Duration,
    max_ejection_time: Duration,
    max_ejection_percent: u32,
    panic_threshold_percent: u32,
    default_rtt: Duration,
    ewma_decay: Duration,
    failure_penalty: Duration,
    health_check: Option<Box<dyn HealthCheck<E>>>,
}

impl<E: fmt::Debug> fmt::Debug for BalancerBuilder<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BalancerBuilder")
            .field("strategy", &self.strategy)
            .field("endpoints", &self.endpoints)
            .field("outlier_detection", &self.outlier_detection)
            .field("consecutive_failures", &self.consecutive_failures)
            .field("base_ejection_time", &self.base_ejection_time)
            .field("max_ejection_time", &self.max_ejection_time)
            .field("max_ejection_percent", &self.max_ejection_percent)
            .field("panic_threshold_percent", &self.panic_threshold_percent)
            .field("default_rtt", &self.default_rtt)
            .field("ewma_decay", &self.ewma_decay)
            .field("failure_penalty", &self.failure_penalty)
            .field("health_check", &self.health_check.is_some())
            .finish()
    }
}

impl<E> Default for BalancerBuilder<E> {
    fn default() -> Self {
        Self {
            strategy: Box::new(PeakEwma::new()),
            clock: Arc::new(SystemClock),
            endpoints: Vec::new(),
            outlier_detection: true,
            consecutive_failures: 5,
            base_ejection_time: Duration::from_secs(30),
            max_ejection_time: Duration::from_secs(300),
            max_ejection_percent: 10,
            panic_threshold_percent: 50,
            default_rtt: Duration::from_millis(30),
            ewma_decay: Duration::from_secs(10),
            failure_penalty: Duration::from_millis(500),
            health_check: None,
        }
    }
}

impl<E> BalancerBuilder<E>
where
    E: Hash + Eq + fmt::Debug + Send + Sync + 'static,
{
    /// How endpoints are chosen.
    pub fn strategy(mut self, strategy: impl Strategy) -> Self {
        self.strategy = Box::new(strategy);
        self
    }

    /// The clock for latencies, ejection times and EWMA decay (a
    /// [`ManualClock`](crate::ManualClock) in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Adds an endpoint of weight 1.
    pub fn endpoint(self, endpoint: E) -> Self {
        self.weighted_endpoint(endpoint, 1)
    }

    /// Adds an endpoint with a weight (at least 1).
    pub fn weighted_endpoint(mut self, endpoint: E, weight: u32) -> Self {
        self.endpoints.push((endpoint, weight));
        self
    }

    /// Adds endpoints of weight 1.
    pub fn endpoints(mut self, endpoints: impl IntoIterator<Item = E>) -> Self {
        self.endpoints
            .extend(endpoints.into_iter().map(|endpoint| (endpoint, 1)));
        self
    }

    /// Turns passive outlier detection on (the default) or off.
    pub fn outlier_detection(mut self, enabled: bool) -> Self {
        self.outlier_detection = enabled;
        self
    }

    /// Consecutive failures that eject an endpoint (at least 1).
    pub fn consecutive_failures(mut self, failures: u32) -> Self {
        self.consecutive_failures = failures;
        self
    }

    /// The first ejection's length; the n-th ejection in a row lasts n
    /// times this, up to [`max_ejection_time`](Self::max_ejection_time).
    /// Each base ejection time spent healthy takes one step off the
    /// multiplier. Must be above zero.
    pub fn base_ejection_time(mut self, time: Duration) -> Self {
        self.base_ejection_time = time;
        self
    }

    /// The longest ejection (at least the base ejection time).
    pub fn max_ejection_time(mut self, time: Duration) -> Self {
        self.max_ejection_time = time;
        self
    }

    /// The share of endpoints that may be ejected at once, in percent
    /// (0–100, rounded down, but above 0 % one endpoint may always be
    /// ejected; 0 % ejects none). An ejection the cap refuses is counted in
    /// [`BalancerStats::ejections_overflow`](crate::BalancerStats::ejections_overflow),
    /// and the endpoint's run of consecutive failures starts over.
    pub fn max_ejection_percent(mut self, percent: u32) -> Self {
        self.max_ejection_percent = percent;
        self
    }

    /// Envoy's panic threshold, in percent (0–100, default 50): when fewer
    /// than this share of the endpoints are healthy (neither ejected nor on
    /// probation), picks go over **all** endpoints, ejected ones included,
    /// rather than overloading the few left or refusing traffic when none
    /// is left — so a single-endpoint balancer keeps sending to its only
    /// endpoint. Such picks are counted in
    /// [`BalancerStats::panic_routed`](crate::BalancerStats::panic_routed);
    /// ejection times and probation probes go on as usual. 0 turns panic
    /// routing off: with every endpoint ejected, picks then fail with
    /// [`Error::NoAvailableEndpoint`].
    pub fn panic_threshold_percent(mut self, percent: u32) -> Self {
        self.panic_threshold_percent = percent;
        self
    }

    /// The round trip assumed for an endpoint with no sample yet (above zero).
    pub fn default_rtt(mut self, rtt: Duration) -> Self {
        self.default_rtt = rtt;
        self
    }

    /// The peak-EWMA decay time (above zero): a sample `Δt` after the last
    /// blends in with weight `1 − exp(−Δt / decay)`. Failure counts of
    /// [`Score`](crate::Score) decay with it too.
    pub fn ewma_decay(mut self, decay: Duration) -> Self {
        self.ewma_decay = decay;
        self
    }

    /// The least latency a failure counts as in the EWMA, so an endpoint
    /// that fails fast does not look fast (zero: failures count their real
    /// latency, as in tower).
    pub fn failure_penalty(mut self, penalty: Duration) -> Self {
        self.failure_penalty = penalty;
        self
    }

    /// The active health check [`Balancer::run_health_checks`] calls on
    /// ejected endpoints.
    pub fn health_check(mut self, check: impl HealthCheck<E>) -> Self {
        self.health_check = Some(Box::new(check));
        self
    }

    /// Validates the options and builds the balancer.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first option out of range, or
    /// [`Error::DuplicateEndpoint`] if an endpoint is given twice.
    pub fn build(self) -> Result<Balancer<E>, Error> {
        let invalid =
            |field: &'static str, reason: &'static str| Error::InvalidConfig { field, reason };
        if self.consecutive_failures == 0 {
            return Err(invalid("consecutive_failures", "must be at least 1"));
        }
        if self.base_ejection_time.is_zero() {
            return Err(invalid("base_ejection_time", "must be above zero"));
        }
        if self.max_ejection_time < self.base_ejection_time {
            return Err(invalid(
                "max_ejection_time",
                "must be at least base_ejection_time",
            ));
        }
        if self.max_ejection_percent > 100 {
            return Err(invalid("max_ejection_percent", "must be 0 to 100"));
        }
        if self.panic_threshold_percent > 100 {
            return Err(invalid("panic_threshold_percent", "must be 0 to 100"));
        }
        if self.default_rtt.is_zero() {
            return Err(invalid("default_rtt", "must be above zero"));
        }
        if self.ewma_decay.is_zero() {
            return Err(invalid("ewma_decay", "must be above zero"));
        }
        if self.endpoints.iter().any(|(_, weight)| *weight == 0) {
            return Err(invalid("weighted_endpoint", "weights must be at least 1"));
        }
        for (index, (endpoint, _)) in self.endpoints.iter().enumerate() {
            if self.endpoints[..index]
                .iter()
                .any(|(other, _)| other == endpoint)
            {
                return Err(Error::DuplicateEndpoint);
            }
        }
        let settings = Settings {
            outlier: self.outlier_detection.then_some(OutlierSettings {
                consecutive_failures: self.consecutive_failures,
                base_ejection_ns: nanos(self.base_ejection_time),
                max_ejection_ns: nanos(self.max_ejection_time),
                max_ejection_percent: self.max_ejection_percent,
                panic_threshold_percent: self.panic_threshold_percent,
            }),
            default_rtt_ns: nanos(self.default_rtt) as f64,
            decay_ns: nanos(self.ewma_decay) as f64,
            failure_penalty_ns: nanos(self.failure_penalty) as f64,
        };
        Ok(Balancer::new(
            self.strategy,
            self.clock,
            settings,
            self.endpoints,
            self.health_check,
        ))
    }
}
