//! `MonitorHandle`: the running monitor — stop it, read it, report from it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::alert::AlertEvent;
use crate::error::MonitorError;
use crate::history::History;
use crate::monitor::{Shared, Snapshot};
use crate::registry::Registry;
use crate::report::Report;
use crate::stats::MonitorStats;

/// The running monitor. Dropping it without [`stop`](Self::stop) leaves
/// the loop running until the runtime shuts down.
#[derive(Debug)]
pub struct MonitorHandle {
    pub(crate) shared: Arc<Shared>,
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) task: Mutex<Option<JoinHandle<()>>>,
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
        MonitorStats {
            history_dropped: self.shared.history.dropped(),
            ..self.shared.counters.snapshot()
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
