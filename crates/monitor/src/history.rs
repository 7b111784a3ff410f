//! `History`: a bounded ring of recent values per series.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use serde::Serialize;
use tokio::time::Instant;

use crate::series::SeriesKey;

type Ring = VecDeque<(Instant, f64)>;

/// The last `capacity` values of every series the monitor has sampled
/// (default 3600: one hour at a 1 s interval). Memory is bounded: each
/// series keeps at most `capacity` points. Cloning shares the history.
#[derive(Debug, Clone)]
pub struct History {
    inner: Arc<RwLock<HashMap<SeriesKey, Ring>>>,
    capacity: usize,
}

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
    /// An empty history keeping `capacity` points per series (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::default(),
            capacity: capacity.max(1),
        }
    }

    /// Points kept per series.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Appends `value` for `key` at `at`, dropping the oldest point when full.
    pub fn push(&self, key: &SeriesKey, at: Instant, value: f64) {
        let mut map = self.inner.write();
        if let Some(ring) = map.get_mut(key) {
            if ring.len() == self.capacity {
                ring.pop_front();
            }
            ring.push_back((at, value));
        } else {
            let mut ring = VecDeque::with_capacity(self.capacity.min(64));
            ring.push_back((at, value));
            map.insert(key.clone(), ring);
        }
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
