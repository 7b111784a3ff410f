//! `History`: a bounded ring of recent values per series.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::RwLock;
use serde::Serialize;
use tokio::time::Instant;

use crate::series::SeriesKey;

type Ring = VecDeque<(Instant, f64)>;

/// The last `capacity` values of every series the monitor has sampled
/// (default 3600: one hour at a 1 s interval), for at most `max_series`
/// series (default 10 000). Memory is bounded: each series keeps at most
/// `capacity` points, and once `max_series` series are held a point of a
/// new series is dropped and counted ([`dropped`](Self::dropped)) — a
/// label with unbounded values (a user id, a URL with ids in it) cannot
/// grow it without end. Cloning shares the history.
#[derive(Debug, Clone)]
pub struct History {
    inner: Arc<RwLock<HashMap<SeriesKey, Ring>>>,
    capacity: usize,
    max_series: usize,
    dropped: Arc<AtomicU64>,
}

/// The default [`History::max_series`].
pub(crate) const DEFAULT_MAX_SERIES: usize = 10_000;

/// Statistics of one series over a window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// The most recent value.
    pub current: f64,
    /// Mean over the window.
    pub avg: f64,
    /// Smallest value in the window.
    pub min: f64,
    /// Largest value in the window.
    pub max: f64,
    /// 95th percentile (nearest rank) over the window.
    pub p95: f64,
    /// Points in the window.
    pub count: usize,
}

impl History {
    /// An empty history keeping `capacity` points per series (at least 1)
    /// for at most 10 000 series.
    pub fn new(capacity: usize) -> Self {
        Self::with_max_series(capacity, DEFAULT_MAX_SERIES)
    }

    /// An empty history keeping `capacity` points per series for at most
    /// `max_series` series (each at least 1).
    pub fn with_max_series(capacity: usize, max_series: usize) -> Self {
        Self {
            inner: Arc::default(),
            capacity: capacity.max(1),
            max_series: max_series.max(1),
            dropped: Arc::default(),
        }
    }

    /// Points kept per series.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Series kept at most.
    pub fn max_series(&self) -> usize {
        self.max_series
    }

    /// Points dropped because they began a new series when
    /// [`max_series`](Self::max_series) series were already held.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Appends `value` for `key` at `at`, dropping the oldest point when
    /// the series is full; a point of a new series is dropped (and counted)
    /// when `max_series` series are held. Returns whether it was kept.
    pub fn push(&self, key: &SeriesKey, at: Instant, value: f64) -> bool {
        let mut map = self.inner.write();
        if let Some(ring) = map.get_mut(key) {
            if ring.len() == self.capacity {
                ring.pop_front();
            }
            ring.push_back((at, value));
        } else if map.len() >= self.max_series {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        } else {
            let mut ring = VecDeque::with_capacity(self.capacity.min(64));
            ring.push_back((at, value));
            map.insert(key.clone(), ring);
        }
        true
    }

    /// Every series with at least one point.
    pub fn keys(&self) -> Vec<SeriesKey> {
        let mut keys: Vec<_> = self.inner.read().keys().cloned().collect();
        keys.sort();
        keys
    }

    /// The points of `key` no older than `window` (oldest first).
    pub fn points(&self, key: &SeriesKey, window: Duration) -> Vec<(Instant, f64)> {
        let now = Instant::now();
        let map = self.inner.read();
        let Some(ring) = map.get(key) else {
            return Vec::new();
        };
        ring.iter()
            .filter(|(t, _)| now.saturating_duration_since(*t) <= window)
            .copied()
            .collect()
    }

    /// current / avg / min / max / p95 / count of `key` over the last
    /// `window`; `None` when it has no point in the window.
    pub fn summary(&self, key: &SeriesKey, window: Duration) -> Option<Summary> {
        let values: Vec<f64> = self
            .points(key, window)
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        summarize(&values)
    }

    /// [`summary`](Self::summary) of every series named `name`, whatever
    /// its labels.
    pub fn summaries_named(&self, name: &str, window: Duration) -> Vec<(SeriesKey, Summary)> {
        self.keys()
            .into_iter()
            .filter(|k| k.name == name)
            .filter_map(|k| self.summary(&k, window).map(|s| (k, s)))
            .collect()
    }
}

pub(crate) fn summarize(values: &[f64]) -> Option<Summary> {
    let current = *values.last()?;
    let count = values.len();
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let sum: f64 = values.iter().sum();
    // Nearest-rank percentile: the smallest value with at least 95 % of
    // the points at or below it.
    let rank = ((0.95 * count as f64).ceil() as usize).clamp(1, count);
    Some(Summary {
        current,
        avg: sum / count as f64,
        min: sorted[0],
        max: sorted[count - 1],
        p95: sorted[rank - 1],
        count,
    })
}
