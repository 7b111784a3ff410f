//! The monitor's own counters and their snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// The counters behind [`MonitorStats`], bumped by the loop and the sink
/// workers.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) ticks: AtomicU64,
    pub(crate) skipped_ticks: AtomicU64,
    pub(crate) alerts: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) resolved_absent: AtomicU64,
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
    /// Firing alerts resolved because their series stopped reporting for
    /// [`series_absent_after`](crate::MonitorBuilder::series_absent_after).
    pub resolved_absent: u64,
    /// Points the history dropped because they began a new series when it
    /// already held
    /// [`history_max_series`](crate::MonitorBuilder::history_max_series).
    pub history_dropped: u64,
}

impl Counters {
    /// The counters now (`history_dropped` is the history's to tell: 0).
    pub(crate) fn snapshot(&self) -> MonitorStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MonitorStats {
            ticks: read(&self.ticks),
            skipped_ticks: read(&self.skipped_ticks),
            alerts: read(&self.alerts),
            sink_deliveries: read(&self.delivered),
            sink_failures: read(&self.failures),
            sink_dropped: read(&self.dropped),
            resolved_absent: read(&self.resolved_absent),
            history_dropped: 0,
        }
    }
}
