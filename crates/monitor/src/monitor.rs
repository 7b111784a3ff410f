//! `Monitor`: the sampling loop — samplers, application metrics, history,
//! alert rules and sinks.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use crate::alert::{AlertEngine, AlertEvent};
use crate::builder::MonitorBuilder;
use crate::derive::{TickState, application_points};
use crate::handle::MonitorHandle;
use crate::history::History;
use crate::registry::Registry;
use crate::report::{ApiNames, Recommendation};
use crate::sampler::Sampler;
use crate::series::{Point, SeriesKey};
use crate::sink::AlertSink;
use crate::stats::Counters;

pub(crate) const ALERT_LOG: usize = 1024;

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
    pub(crate) interval: Duration,
    pub(crate) samplers: Vec<Box<dyn Sampler>>,
    pub(crate) engine: AlertEngine,
    pub(crate) sinks: Vec<Arc<dyn AlertSink>>,
    pub(crate) sink_queue: usize,
    pub(crate) shared: Arc<Shared>,
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
/// What the loop shares with its handle.
pub(crate) struct Shared {
    pub(crate) registry: Registry,
    pub(crate) history: History,
    pub(crate) latest: RwLock<Snapshot>,
    /// Sampled (not registry-derived) points of the last tick, for export.
    pub(crate) exported: RwLock<Vec<Point>>,
    pub(crate) alerts: Mutex<VecDeque<(Instant, AlertEvent)>>,
    pub(crate) recommendations: Vec<Recommendation>,
    pub(crate) api: ApiNames,
    pub(crate) interval: Duration,
    pub(crate) counters: Counters,
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
            let absent = events.iter().filter(|e| e.absent).count();
            shared
                .counters
                .resolved_absent
                .fetch_add(absent as u64, Ordering::Relaxed);
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
