//! Application metrics: `Counter`, `Gauge`, `LatencyHistogram`, held by
//! name (and labels) in a `Registry`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;

use crate::error::MonitorError;
use crate::histogram::{HistogramSnapshot, LatencyHistogram};
use crate::series::SeriesKey;

/// A monotonically increasing count (requests served, errors). Cloning
/// shares the count. The monitor derives `<name>_per_second` from it at
/// every tick.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<PaddedU64>);

#[repr(align(128))]
#[derive(Debug, Default)]
struct PaddedU64(AtomicU64);

impl Counter {
    /// A counter at zero, not registered anywhere.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one.
    #[inline]
    pub fn increment(&self) {
        self.add(1);
    }

    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down (open connections, queue length).
/// Cloning shares the value.
#[derive(Debug, Clone, Default)]
pub struct Gauge(Arc<PaddedU64>);

impl Gauge {
    /// A gauge at zero, not registered anywhere.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the value.
    pub fn set(&self, value: f64) {
        self.0.0.store(value.to_bits(), Ordering::Relaxed);
    }

    /// Adds `delta` (may be negative).
    pub fn add(&self, delta: f64) {
        let _ = self
            .0
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + delta).to_bits())
            });
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.0.load(Ordering::Relaxed))
    }
}

/// One registered metric.
#[derive(Debug, Clone)]
pub enum Metric {
    /// A counter.
    Counter(Counter),
    /// A gauge.
    Gauge(Gauge),
    /// A latency histogram.
    Histogram(LatencyHistogram),
}

impl Metric {
    fn kind(&self) -> &'static str {
        match self {
            Metric::Counter(_) => "counter",
            Metric::Gauge(_) => "gauge",
            Metric::Histogram(_) => "histogram",
        }
    }
}

/// The value of one metric at one moment, as returned by
/// [`Registry::read`].
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// A counter's count.
    Counter(u64),
    /// A gauge's value.
    Gauge(f64),
    /// A histogram's percentiles (seconds).
    Histogram(HistogramSnapshot),
}

/// Holds application metrics by name and labels. Cloning shares the
/// registry. Getting a metric that exists returns the same one; getting it
/// as another kind is an error.
///
/// ```
/// use perfect21_monitor::Registry;
///
/// let registry = Registry::new();
/// let served = registry.counter("requests_total", &[("route", "/users")])?;
/// served.increment();
/// assert_eq!(registry.counter("requests_total", &[("route", "/users")])?.get(), 1);
/// assert!(registry.gauge("requests_total", &[("route", "/users")]).is_err());
/// # Ok::<(), perfect21_monitor::MonitorError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Registry {
    metrics: Arc<RwLock<BTreeMap<SeriesKey, Metric>>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn get_or_insert(
        &self,
        key: SeriesKey,
        make: impl FnOnce() -> Metric,
        want: &'static str,
    ) -> Result<Metric, MonitorError> {
        if let Some(m) = self.metrics.read().get(&key) {
            return check_kind(&key, m, want);
        }
        // Names are one namespace across label sets: a name is one kind.
        let mut map = self.metrics.write();
        if let Some(m) = map.get(&key) {
            return check_kind(&key, m, want);
        }
        if let Some((_, other)) = map.iter().find(|(k, _)| k.name == key.name)
            && other.kind() != want
        {
            return Err(MonitorError::KindMismatch {
                name: key.name,
                existing: other.kind(),
            });
        }
        let m = make();
        map.insert(key, m.clone());
        Ok(m)
    }

    /// The counter `name{labels}`, created at zero if missing.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Result<Counter, MonitorError> {
        match self.get_or_insert(
            SeriesKey::new(name, labels),
            || Metric::Counter(Counter::new()),
            "counter",
        )? {
            Metric::Counter(c) => Ok(c),
            other => Err(mismatch(name, &other)),
        }
    }

    /// The gauge `name{labels}`, created at zero if missing.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Result<Gauge, MonitorError> {
        match self.get_or_insert(
            SeriesKey::new(name, labels),
            || Metric::Gauge(Gauge::new()),
            "gauge",
        )? {
            Metric::Gauge(g) => Ok(g),
            other => Err(mismatch(name, &other)),
        }
    }

    /// The histogram `name{labels}`, created with the default precision and
    /// range if missing.
    pub fn histogram(
        &self,
        name: &str,
        labels: &[(&str, &str)],
    ) -> Result<LatencyHistogram, MonitorError> {
        self.register_histogram(name, labels, LatencyHistogram::new())
    }

    /// The histogram `name{labels}`; if missing, `histogram` (built with
    /// your own precision and range) is registered under that name.
    pub fn register_histogram(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        histogram: LatencyHistogram,
    ) -> Result<LatencyHistogram, MonitorError> {
        match self.get_or_insert(
            SeriesKey::new(name, labels),
            || Metric::Histogram(histogram),
            "histogram",
        )? {
            Metric::Histogram(h) => Ok(h),
            other => Err(mismatch(name, &other)),
        }
    }

    /// Every metric with its key, sorted by key.
    pub fn metrics(&self) -> Vec<(SeriesKey, Metric)> {
        self.metrics
            .read()
            .iter()
            .map(|(k, m)| (k.clone(), m.clone()))
            .collect()
    }

    /// The current value of every metric, sorted by key.
    pub fn read(&self) -> Vec<(SeriesKey, MetricValue)> {
        self.metrics()
            .into_iter()
            .map(|(k, m)| {
                let v = match m {
                    Metric::Counter(c) => MetricValue::Counter(c.get()),
                    Metric::Gauge(g) => MetricValue::Gauge(g.get()),
                    Metric::Histogram(h) => MetricValue::Histogram(h.snapshot()),
                };
                (k, v)
            })
            .collect()
    }

    /// Every metric in the Prometheus text exposition format (see
    /// [`render_prometheus`](crate::render_prometheus)).
    pub fn render_prometheus(&self) -> String {
        crate::prometheus::render_prometheus(self, &[])
    }
}

fn check_kind(key: &SeriesKey, m: &Metric, want: &'static str) -> Result<Metric, MonitorError> {
    if m.kind() == want {
        Ok(m.clone())
    } else {
        Err(MonitorError::KindMismatch {
            name: key.name.clone(),
            existing: m.kind(),
        })
    }
}

fn mismatch(name: &str, m: &Metric) -> MonitorError {
    MonitorError::KindMismatch {
        name: name.to_owned(),
        existing: m.kind(),
    }
}
