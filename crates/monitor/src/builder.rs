//! `MonitorBuilder`: every option of the monitor, validated at `build()`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use crate::alert::{AlertEngine, AlertRule};
use crate::error::{MonitorError, invalid};
use crate::history::{DEFAULT_MAX_SERIES, History};
use crate::monitor::{Monitor, Shared, Snapshot};
use crate::registry::Registry;
use crate::report::{ApiNames, Recommendation};
use crate::sampler::{SampleKinds, Sampler, SystemSampler};
use crate::sink::AlertSink;
use crate::stats::Counters;

/// The default [`MonitorBuilder::series_absent_after`], unless three
/// intervals are longer (Prometheus' staleness period).
const DEFAULT_ABSENT_AFTER: Duration = Duration::from_secs(300);
const MAX_ABSENT_AFTER: Duration = Duration::from_secs(7 * 86_400);

/// Builds a [`Monitor`]; see [`Monitor::builder`].
pub struct MonitorBuilder {
    interval: Duration,
    history_capacity: usize,
    history_max_series: usize,
    series_absent_after: Option<Duration>,
    system: SampleKinds,
    samplers: Vec<Box<dyn Sampler>>,
    registry: Registry,
    rules: Vec<AlertRule>,
    sinks: Vec<Arc<dyn AlertSink>>,
    sink_queue: usize,
    recommendations: Vec<Recommendation>,
    api: ApiNames,
}

impl std::fmt::Debug for MonitorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorBuilder")
            .field("interval", &self.interval)
            .field("history_capacity", &self.history_capacity)
            .field("history_max_series", &self.history_max_series)
            .field("series_absent_after", &self.series_absent_after)
            .field("system", &self.system)
            .field("samplers", &self.samplers.len())
            .field("rules", &self.rules.len())
            .field(
                "sinks",
                &self
                    .sinks
                    .iter()
                    .map(|s| s.name().to_owned())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Default for MonitorBuilder {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            history_capacity: 3600,
            history_max_series: DEFAULT_MAX_SERIES,
            series_absent_after: None,
            system: SampleKinds::all(),
            samplers: Vec::new(),
            registry: Registry::new(),
            rules: AlertRule::defaults(),
            sinks: Vec::new(),
            sink_queue: 256,
            recommendations: Recommendation::defaults(),
            api: ApiNames::default(),
        }
    }
}

impl MonitorBuilder {
    /// Time between two samples (default 1 s; 1 ms to 1 day). A tick that
    /// overruns makes the loop skip the missed ticks, never stack them.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Points kept per series (default 3600: one hour at 1 s; 1 to 10⁷).
    pub fn history_capacity(mut self, points: usize) -> Self {
        self.history_capacity = points;
        self
    }

    /// Series the history keeps at most (default 10 000; 1 to 10⁷). Once
    /// it holds that many, a point that would begin a new series is dropped
    /// and counted in [`MonitorStats::history_dropped`](crate::MonitorStats):
    /// a label with unbounded values cannot grow the history without end.
    pub fn history_max_series(mut self, series: usize) -> Self {
        self.history_max_series = series;
        self
    }

    /// How long a series may go without a point before the monitor takes
    /// it as gone (default: 5 min or three intervals, whichever is longer;
    /// at least one interval, at most 7 days). A firing alert on a gone
    /// series resolves — an event with [`AlertEvent::absent`](crate::AlertEvent)
    /// set, counted in [`MonitorStats::resolved_absent`](crate::MonitorStats)
    /// — and the alert state of a gone series is dropped. Series that are
    /// only emitted now and then (`error_rate_percent` exists only while
    /// there are requests) would otherwise fire once and never resolve.
    pub fn series_absent_after(mut self, after: Duration) -> Self {
        self.series_absent_after = Some(after);
        self
    }

    /// What the built-in [`SystemSampler`] reads (default everything);
    /// [`SampleKinds::none()`] turns it off.
    pub fn system(mut self, kinds: SampleKinds) -> Self {
        self.system = kinds;
        self
    }

    /// Adds a sampler of your own, called at every tick after the system one.
    pub fn sampler(mut self, sampler: impl Sampler) -> Self {
        self.samplers.push(Box::new(sampler));
        self
    }

    /// The application metrics to sample (default: a new, empty registry,
    /// reachable through [`MonitorHandle::registry`](crate::MonitorHandle::registry)).
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// Replaces the alert rules (default [`AlertRule::defaults`]).
    pub fn rules(mut self, rules: impl IntoIterator<Item = AlertRule>) -> Self {
        self.rules = rules.into_iter().collect();
        self
    }

    /// Adds one alert rule.
    pub fn rule(mut self, rule: AlertRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Adds a sink; every alert event goes to every sink.
    pub fn sink(mut self, sink: impl AlertSink) -> Self {
        self.sinks.push(Arc::new(sink));
        self
    }

    /// Events queued per sink before new ones are dropped (and counted);
    /// default 256, 1 to 10⁶.
    pub fn sink_queue(mut self, events: usize) -> Self {
        self.sink_queue = events;
        self
    }

    /// Replaces the report's recommendation table (default
    /// [`Recommendation::defaults`]).
    pub fn recommendations(mut self, table: impl IntoIterator<Item = Recommendation>) -> Self {
        self.recommendations = table.into_iter().collect();
        self
    }

    /// Names of the application metrics the API figures come from: the
    /// request counter (default `requests_total`), the error counter
    /// (`errors_total`) and the latency histogram
    /// (`request_latency_seconds`). From them the monitor derives
    /// `request_rate_per_second` and `error_rate_percent` at every tick
    /// (summed over labels).
    pub fn api_metrics(
        mut self,
        requests: impl Into<String>,
        errors: impl Into<String>,
        latency: impl Into<String>,
    ) -> Self {
        self.api = ApiNames {
            requests: requests.into(),
            errors: errors.into(),
            latency: latency.into(),
        };
        self
    }

    /// Validates every option and builds the monitor (not yet running).
    pub fn build(self) -> Result<Monitor, MonitorError> {
        if self.interval < Duration::from_millis(1) || self.interval > Duration::from_secs(86_400) {
            return Err(invalid(
                "interval",
                format!("must be 1 ms..=1 day, got {:?}", self.interval),
            ));
        }
        if !(1..=10_000_000).contains(&self.history_capacity) {
            return Err(invalid(
                "history_capacity",
                format!("must be 1..=10000000, got {}", self.history_capacity),
            ));
        }
        if !(1..=10_000_000).contains(&self.history_max_series) {
            return Err(invalid(
                "history_max_series",
                format!("must be 1..=10000000, got {}", self.history_max_series),
            ));
        }
        let absent_after = match self.series_absent_after {
            Some(after) if after < self.interval || after > MAX_ABSENT_AFTER => {
                return Err(invalid(
                    "series_absent_after",
                    format!(
                        "must be at least the interval ({:?}) and at most 7 days, got {after:?}",
                        self.interval
                    ),
                ));
            }
            Some(after) => after,
            None => DEFAULT_ABSENT_AFTER.max(self.interval.saturating_mul(3)),
        };
        if !(1..=1_000_000).contains(&self.sink_queue) {
            return Err(invalid(
                "sink_queue",
                format!("must be 1..=1000000, got {}", self.sink_queue),
            ));
        }
        for rule in &self.rules {
            rule.validate()?;
        }
        for r in &self.recommendations {
            r.validate()?;
        }
        let mut samplers = self.samplers;
        if self.system != SampleKinds::none() {
            samplers.insert(0, Box::new(SystemSampler::with_kinds(self.system)?));
        }
        Ok(Monitor {
            interval: self.interval,
            samplers,
            engine: AlertEngine::new(self.rules, absent_after),
            sinks: self.sinks,
            sink_queue: self.sink_queue,
            shared: Arc::new(Shared {
                registry: self.registry,
                history: History::with_max_series(self.history_capacity, self.history_max_series),
                latest: RwLock::new(Snapshot::default()),
                exported: RwLock::new(Vec::new()),
                alerts: Mutex::new(VecDeque::new()),
                recommendations: self.recommendations,
                api: self.api,
                interval: self.interval,
                counters: Counters::default(),
            }),
        })
    }
}
