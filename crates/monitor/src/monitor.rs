//! `Monitor`: the sampling loop — samplers, application metrics, history,
//! alert rules and sinks — and its running handle.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::alert::{AlertEngine, AlertEvent, AlertRule};
use crate::error::{MonitorError, invalid};
use crate::history::History;
use crate::registry::{Metric, Registry};
use crate::report::{ApiNames, Recommendation, Report};
use crate::sampler::{SampleKinds, Sampler, SystemSampler};
use crate::series::{Point, SeriesKey};
use crate::sink::AlertSink;

const ALERT_LOG: usize = 1024;

/// Builds a [`Monitor`]; see [`Monitor::builder`].
pub struct MonitorBuilder {
    interval: Duration,
    history_capacity: usize,
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
    /// reachable through [`MonitorHandle::registry`]).
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
            engine: AlertEngine::new(self.rules),
            sinks: self.sinks,
            sink_queue: self.sink_queue,
            shared: Arc::new(Shared {
                registry: self.registry,
                history: History::new(self.history_capacity),
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

/// A configured monitor; [`spawn`](Self::spawn) starts its loop.
///
/// ```
/// use std::time::Duration;
/// use perfect21_monitor::{AlertRule, Monitor, SampleKinds, TracingSink};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), perfect21_monitor::MonitorError> {
/// let monitor = Monitor::builder()
///     .interval(Duration::from_millis(10))
///     .system(SampleKinds::cpu_and_memory())
///     .rule(AlertRule::above("low_memory", "memory_available_bytes", 0.0))
///     .sink(TracingSink)
///     .build()?
///     .spawn();
/// tokio::time::sleep(Duration::from_millis(30)).await;
/// assert!(monitor.snapshot().get("memory_total_bytes").is_some());
/// monitor.stop().await;
/// # Ok(())
/// # }
/// ```
pub struct Monitor {
    interval: Duration,
    samplers: Vec<Box<dyn Sampler>>,
    engine: AlertEngine,
    sinks: Vec<Arc<dyn AlertSink>>,
    sink_queue: usize,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("interval", &self.interval)
            .field("samplers", &self.samplers.len())
            .field("sinks", &self.sinks.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Shared {
    registry: Registry,
    history: History,
    latest: RwLock<Snapshot>,
    /// Sampled (not registry-derived) points of the last tick, for export.
    exported: RwLock<Vec<Point>>,
    alerts: Mutex<VecDeque<(Instant, AlertEvent)>>,
    recommendations: Vec<Recommendation>,
    api: ApiNames,
    interval: Duration,
    counters: Counters,
}

#[derive(Debug, Default)]
struct Counters {
    ticks: AtomicU64,
    skipped_ticks: AtomicU64,
    alerts: AtomicU64,
    delivered: AtomicU64,
    failures: AtomicU64,
    dropped: AtomicU64,
}

/// The monitor's own counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MonitorStats {
    /// Ticks run.
    pub ticks: u64,
    /// Ticks skipped because an earlier one overran.
    pub skipped_ticks: u64,
    /// Alert events produced (each goes to every sink).
    pub alerts: u64,
    /// Successful sink deliveries.
    pub sink_deliveries: u64,
    /// Failed (or panicked) sink deliveries.
    pub sink_failures: u64,
    /// Events dropped because a sink's queue was full.
    pub sink_dropped: u64,
}

/// The points of the latest tick.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// Wall-clock time of the tick, seconds since the Unix epoch (0 before
    /// the first tick).
    pub taken_at: f64,
    /// Every sampled and derived point.
    pub points: Vec<Point>,
}

impl Snapshot {
    /// The value of the unlabelled series `name` (or, failing that, the
    /// first series of that name).
    pub fn get(&self, name: &str) -> Option<f64> {
        let mut first = None;
        for p in self.points.iter().filter(|p| p.key.name == name) {
            if p.key.labels.is_empty() {
                return Some(p.value);
            }
            first = first.or(Some(p.value));
        }
        first
    }

    /// The value of the series `name{labels}`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let key = SeriesKey::new(name, labels);
        self.points.iter().find(|p| p.key == key).map(|p| p.value)
    }
}

impl Monitor {
    /// A builder with the defaults: 1 s interval, one hour of history,
    /// every system metric, the guide's alert rules, no sinks.
    pub fn builder() -> MonitorBuilder {
        MonitorBuilder::default()
    }

    /// Starts the loop on the current tokio runtime (call it from within
    /// one) and returns its handle. The first tick runs at once.
    pub fn spawn(self) -> MonitorHandle {
        let (stop_tx, stop_rx) = watch::channel(false);
        let shared = Arc::clone(&self.shared);
        let task = tokio::spawn(self.run(stop_rx));
        MonitorHandle {
            shared,
            stop: stop_tx,
            task: Mutex::new(Some(task)),
        }
    }

    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut queues = Vec::with_capacity(self.sinks.len());
        let mut workers = Vec::with_capacity(self.sinks.len());
        for sink in std::mem::take(&mut self.sinks) {
            let (tx, rx) = mpsc::channel(self.sink_queue);
            queues.push((sink.name().to_owned(), tx));
            workers.push(tokio::spawn(sink_worker(
                sink,
                rx,
                Arc::clone(&self.shared),
            )));
        }
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut state = TickState::default();
        let mut last_tick: Option<Instant> = None;
        loop {
            tokio::select! {
                biased;
                _ = stop.changed() => break,
                at = ticker.tick() => {
                    if let Some(last) = last_tick {
                        let gap = at.saturating_duration_since(last).as_nanos();
                        let step = self.interval.as_nanos().max(1);
                        let missed = (gap / step).saturating_sub(1);
                        self.shared.counters.skipped_ticks.fetch_add(missed as u64, Ordering::Relaxed);
                    }
                    last_tick = Some(at);
                    let events = self.tick(&mut state);
                    for event in events {
                        for (name, tx) in &queues {
                            if tx.try_send(event.clone()).is_err() {
                                self.shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
                                tracing::warn!(target: "perfect21_monitor::sink", sink = %name, "sink queue full or closed: alert dropped");
                            }
                        }
                    }
                }
            }
        }
        drop(queues);
        for w in workers {
            let _ = w.await;
        }
    }

    fn tick(&mut self, state: &mut TickState) -> Vec<AlertEvent> {
        let now = Instant::now();
        let shared = &*self.shared;
        let mut points = Vec::with_capacity(64);
        for sampler in &mut self.samplers {
            sampler.sample(&mut points);
        }
        let sampled = points.len();
        let elapsed = state
            .last
            .map(|t| now.saturating_duration_since(t).as_secs_f64());
        state.last = Some(now);
        application_points(shared, state, elapsed, &mut points);
        *shared.exported.write() = points[..sampled].to_vec();
        for p in &points {
            shared.history.push(&p.key, now, p.value);
        }
        #[cfg(feature = "metrics")]
        crate::facade::report(&points);
        let events = self.engine.evaluate(&points, now);
        *shared.latest.write() = Snapshot {
            taken_at: unix_now(),
            points,
        };
        shared.counters.ticks.fetch_add(1, Ordering::Relaxed);
        if !events.is_empty() {
            shared
                .counters
                .alerts
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            let mut log = shared.alerts.lock();
            for e in &events {
                if log.len() == ALERT_LOG {
                    log.pop_front();
                }
                log.push_back((now, e.clone()));
            }
        }
        events
    }
}

/// What the loop remembers between ticks to derive rates.
#[derive(Debug, Default)]
struct TickState {
    last: Option<Instant>,
    counters: HashMap<SeriesKey, u64>,
    histograms: HashMap<SeriesKey, Histogram<u64>>,
}

/// Registry metrics as points, plus rates, per-interval percentiles and the
/// API figures derived from them.
fn application_points(
    shared: &Shared,
    state: &mut TickState,
    elapsed: Option<f64>,
    out: &mut Vec<Point>,
) {
    let api = &shared.api;
    let (mut req_delta, mut err_delta) = (None::<u64>, None::<u64>);
    for (key, metric) in shared.registry.metrics() {
        match metric {
            Metric::Counter(c) => {
                let v = c.get();
                out.push(Point {
                    key: key.clone(),
                    value: v as f64,
                });
                let prev = state.counters.insert(key.clone(), v);
                if let (Some(prev), Some(secs)) = (prev, elapsed) {
                    let delta = v.saturating_sub(prev);
                    if secs > 0.0 {
                        out.push(Point {
                            key: key.with_name(format!("{}_per_second", key.name)),
                            value: delta as f64 / secs,
                        });
                    }
                    if key.name == api.requests {
                        *req_delta.get_or_insert(0) += delta;
                    } else if key.name == api.errors {
                        *err_delta.get_or_insert(0) += delta;
                    }
                }
            }
            Metric::Gauge(g) => out.push(Point {
                key,
                value: g.get(),
            }),
            Metric::Histogram(h) => {
                let current = h.merged();
                let mut delta = current.clone();
                if let Some(prev) = state.histograms.get(&key)
                    && delta.subtract(prev).is_err()
                {
                    // Reset since the last tick: everything is new.
                    delta = current.clone();
                }
                if !delta.is_empty() {
                    for (suffix, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
                        out.push(Point {
                            key: key.with_name(format!("{}_{suffix}", key.name)),
                            value: delta.value_at_quantile(q) as f64 / 1e6,
                        });
                    }
                }
                if let Some(secs) = elapsed.filter(|s| *s > 0.0) {
                    out.push(Point {
                        key: key.with_name(format!("{}_per_second", key.name)),
                        value: delta.len() as f64 / secs,
                    });
                }
                state.histograms.insert(key, current);
            }
        }
    }
    if let (Some(req), Some(secs)) = (req_delta, elapsed.filter(|s| *s > 0.0)) {
        out.push(Point::new("request_rate_per_second", req as f64 / secs));
        if req > 0 {
            let err = err_delta.unwrap_or(0);
            out.push(Point::new(
                "error_rate_percent",
                err as f64 * 100.0 / req as f64,
            ));
        }
    }
}

async fn sink_worker(
    sink: Arc<dyn AlertSink>,
    mut rx: mpsc::Receiver<AlertEvent>,
    shared: Arc<Shared>,
) {
    while let Some(event) = rx.recv().await {
        let s = Arc::clone(&sink);
        // Its own task, so that a panicking sink is a counted failure.
        let result = tokio::spawn(async move { s.send(&event).await }).await;
        let c = &shared.counters;
        match result {
            Ok(Ok(())) => {
                c.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Err(e)) => {
                c.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(target: "perfect21_monitor::sink", sink = sink.name(), error = %e, "alert delivery failed");
            }
            Err(e) => {
                c.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(target: "perfect21_monitor::sink", sink = sink.name(), error = %e, "alert sink panicked");
            }
        }
    }
}

pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The running monitor. Dropping it without [`stop`](Self::stop) leaves
/// the loop running until the runtime shuts down.
#[derive(Debug)]
pub struct MonitorHandle {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl MonitorHandle {
    /// Stops the loop, lets each sink deliver what is queued, and waits.
    /// Calling it again returns at once.
    pub async fn stop(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    /// The sampling interval.
    pub fn interval(&self) -> Duration {
        self.shared.interval
    }

    /// The points of the latest tick.
    pub fn snapshot(&self) -> Snapshot {
        self.shared.latest.read().clone()
    }

    /// The history of every series.
    pub fn history(&self) -> History {
        self.shared.history.clone()
    }

    /// The application metrics registry the loop samples.
    pub fn registry(&self) -> Registry {
        self.shared.registry.clone()
    }

    /// The monitor's own counters.
    pub fn stats(&self) -> MonitorStats {
        let c = &self.shared.counters;
        MonitorStats {
            ticks: c.ticks.load(Ordering::Relaxed),
            skipped_ticks: c.skipped_ticks.load(Ordering::Relaxed),
            alerts: c.alerts.load(Ordering::Relaxed),
            sink_deliveries: c.delivered.load(Ordering::Relaxed),
            sink_failures: c.failures.load(Ordering::Relaxed),
            sink_dropped: c.dropped.load(Ordering::Relaxed),
        }
    }

    /// Alert events of the last `window` (at most the last 1024).
    pub fn alerts(&self, window: Duration) -> Vec<AlertEvent> {
        let now = Instant::now();
        self.shared
            .alerts
            .lock()
            .iter()
            .filter(|(t, _)| now.saturating_duration_since(*t) <= window)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// The report over the last `window`.
    pub fn report(&self, window: Duration) -> Report {
        Report::build(
            &self.shared.history,
            self.alerts(window),
            &self.shared.recommendations,
            &self.shared.api,
            window,
        )
    }

    /// Writes the report over the last `window` to `path`: JSON when the
    /// path ends in `.json`, text otherwise. When `path` is a directory the
    /// file is `report-YYYY-MM-DD.txt` inside it (the original's dated
    /// daily file). Returns the path written.
    pub fn write_report(
        &self,
        path: impl AsRef<Path>,
        window: Duration,
    ) -> Result<PathBuf, MonitorError> {
        self.report(window).write(path)
    }

    /// Every registry metric and the latest sampled points in the
    /// Prometheus text exposition format.
    pub fn render_prometheus(&self) -> String {
        let points = self.shared.exported.read().clone();
        crate::prometheus::render_prometheus(&self.shared.registry, &points)
    }
}
