//! `LatencyHistogram`: an HDR histogram that many threads record into
//! without sharing one lock.
//!
//! The histogram is split into shards, each an `hdrhistogram::Histogram`
//! and the exact sum of its values behind its own mutex on its own cache
//! line. A thread records into the shard picked by a thread-local index
//! handed out round-robin, so two threads touch different locks and
//! different cache lines; a snapshot merges the shards.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::error::{MonitorError, invalid};

/// One shard on its own pair of cache lines.
#[repr(align(128))]
#[derive(Debug)]
struct Shard(Mutex<Recorded>);

/// What one shard holds: the buckets, and the exact sum of the values
/// recorded (the buckets only know each value to the histogram's
/// precision, so a sum derived from them is off).
#[derive(Debug)]
struct Recorded {
    histogram: Histogram<u64>,
    sum_micros: u64,
}

/// Recording cannot panic half-way, so a poisoned shard (a panic elsewhere
/// while it was held) still holds consistent counts: use it.
#[inline]
fn lock(m: &Mutex<Recorded>) -> MutexGuard<'_, Recorded> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Const-initialised: no lazy-init check on the record path.
    static THREAD_INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[inline]
fn thread_index() -> usize {
    THREAD_INDEX.with(|cell| {
        let i = cell.get();
        if i != usize::MAX {
            return i;
        }
        let i = NEXT_THREAD.fetch_add(1, Ordering::Relaxed) & (usize::MAX >> 1);
        cell.set(i);
        i
    })
}

/// A latency histogram: record [`Duration`]s (stored in microseconds) or
/// raw `u64` values from any number of threads; read percentiles from a
/// [`HistogramSnapshot`].
///
/// Cloning is cheap and clones share the data.
///
/// ```
/// use std::time::Duration;
/// use perfect21_monitor::LatencyHistogram;
///
/// let h = LatencyHistogram::new();
/// for ms in 1..=100 {
///     h.record(Duration::from_millis(ms));
/// }
/// let s = h.snapshot();
/// assert_eq!(s.count, 100);
/// assert!((s.p95 - 0.095).abs() < 0.001); // seconds
/// ```
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    // Inline (not behind one more Arc) so the record path chases one
    // pointer.
    shards: Arc<[Shard]>,
    mask: usize,
    config: HistogramConfig,
}

/// The precision and range of a [`LatencyHistogram`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HistogramConfig {
    sigfig: u8,
    highest: u64,
}

/// Builder for a [`LatencyHistogram`].
#[derive(Debug, Clone)]
pub struct LatencyHistogramBuilder {
    sigfig: u8,
    highest: Duration,
    shards: Option<usize>,
}

impl Default for LatencyHistogramBuilder {
    fn default() -> Self {
        Self {
            sigfig: 3,
            highest: Duration::from_secs(60),
            shards: None,
        }
    }
}

impl LatencyHistogramBuilder {
    /// Significant decimal digits kept (1–5; default 3, i.e. values within
    /// 0.1 % of the truth).
    pub fn significant_figures(mut self, sigfig: u8) -> Self {
        self.sigfig = sigfig;
        self
    }

    /// The largest latency tracked exactly (default 60 s); larger values are
    /// clamped to it. At least 2 µs.
    pub fn highest(mut self, highest: Duration) -> Self {
        self.highest = highest;
        self
    }

    /// Number of shards (rounded up to a power of two, 1–256). Default: the
    /// available parallelism × 2, at least 4.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards);
        self
    }

    /// Builds the histogram, refusing out-of-range options.
    pub fn build(self) -> Result<LatencyHistogram, MonitorError> {
        if !(1..=5).contains(&self.sigfig) {
            return Err(invalid(
                "significant_figures",
                format!("must be 1..=5, got {}", self.sigfig),
            ));
        }
        let highest = u64::try_from(self.highest.as_micros()).unwrap_or(u64::MAX);
        if highest < 2 {
            return Err(invalid("highest", "must be at least 2 µs"));
        }
        let shards = match self.shards {
            Some(n) if !(1..=256).contains(&n) => {
                return Err(invalid("shards", format!("must be 1..=256, got {n}")));
            }
            Some(n) => n,
            None => std::thread::available_parallelism()
                .map(|n| n.get() * 2)
                .unwrap_or(4)
                .clamp(4, 64),
        }
        .next_power_of_two();
        let config = HistogramConfig {
            sigfig: self.sigfig,
            highest,
        };
        let mut list = Vec::with_capacity(shards);
        for _ in 0..shards {
            list.push(Shard(Mutex::new(Recorded {
                histogram: config.empty()?,
                sum_micros: 0,
            })));
        }
        Ok(LatencyHistogram {
            shards: list.into(),
            mask: shards - 1,
            config,
        })
    }
}

impl HistogramConfig {
    fn empty(&self) -> Result<Histogram<u64>, MonitorError> {
        Histogram::new_with_bounds(1, self.highest, self.sigfig)
            .map_err(|e| invalid("highest", format!("{e:?}")))
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// A histogram with the defaults: 3 significant figures, up to 60 s.
    pub fn new() -> Self {
        #[allow(clippy::expect_used)] // constant, valid options: cannot fail
        LatencyHistogramBuilder::default()
            .build()
            .expect("the default histogram options are valid")
    }

    /// A builder for a histogram with other precision, range or shards.
    pub fn builder() -> LatencyHistogramBuilder {
        LatencyHistogramBuilder::default()
    }

    /// Records one latency (microsecond resolution; clamped to the range).
    #[inline]
    pub fn record(&self, latency: Duration) {
        self.record_value(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    /// Records a raw value in microseconds (clamped to the range in the
    /// buckets; the [sum](HistogramSnapshot::sum) keeps it exact).
    #[inline]
    pub fn record_value(&self, micros: u64) {
        let shard = &self.shards[thread_index() & self.mask];
        let mut recorded = lock(&shard.0);
        recorded.histogram.saturating_record(micros.max(1));
        recorded.sum_micros = recorded.sum_micros.saturating_add(micros);
    }

    /// Runs `f`, records how long it took and returns its result.
    pub fn time<R>(&self, f: impl FnOnce() -> R) -> R {
        let start = std::time::Instant::now();
        let out = f();
        self.record(start.elapsed());
        out
    }

    /// All shards merged into one `hdrhistogram::Histogram` (values in µs).
    pub fn merged(&self) -> Histogram<u64> {
        self.merged_with_sum().0
    }

    /// All shards merged, and the exact sum of their values in µs, read
    /// together (each shard's buckets and sum under one lock).
    pub(crate) fn merged_with_sum(&self) -> (Histogram<u64>, u64) {
        // The shards were built with these bounds, so this cannot fail.
        #[allow(clippy::expect_used)]
        let mut all = self.config.empty().expect("bounds already validated");
        let mut sum = 0u64;
        for shard in self.shards.iter() {
            let recorded = lock(&shard.0);
            // Same bounds on every shard, so adding cannot fail.
            let _ = all.add(&recorded.histogram);
            sum = sum.saturating_add(recorded.sum_micros);
        }
        (all, sum)
    }

    /// Count, exact sum, mean, min, max and the usual percentiles, in
    /// seconds.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let (merged, sum) = self.merged_with_sum();
        HistogramSnapshot::from_hdr(&merged, sum)
    }

    /// Forgets every recorded value.
    pub fn reset(&self) {
        for shard in self.shards.iter() {
            let mut recorded = lock(&shard.0);
            recorded.histogram.reset();
            recorded.sum_micros = 0;
        }
    }

    /// Significant figures this histogram keeps.
    pub fn significant_figures(&self) -> u8 {
        self.config.sigfig
    }
}

/// Percentiles of a [`LatencyHistogram`] at one moment; every time is in
/// seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct HistogramSnapshot {
    /// Values recorded.
    pub count: u64,
    /// The exact sum of the values recorded (not derived from the buckets:
    /// to the microsecond, and beyond the range the buckets are clamped to).
    pub sum: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean (the exact sum ÷ count).
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
}

impl HistogramSnapshot {
    fn from_hdr(h: &Histogram<u64>, sum_micros: u64) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let s = |micros: u64| micros as f64 / 1e6;
        Self {
            count: h.len(),
            sum: s(sum_micros),
            min: s(h.min()),
            max: s(h.max()),
            mean: s(sum_micros) / h.len() as f64,
            p50: s(h.value_at_quantile(0.5)),
            p90: s(h.value_at_quantile(0.9)),
            p95: s(h.value_at_quantile(0.95)),
            p99: s(h.value_at_quantile(0.99)),
            p999: s(h.value_at_quantile(0.999)),
        }
    }
}
