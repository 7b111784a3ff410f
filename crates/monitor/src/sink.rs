//! Where alerts go: the `AlertSink` trait and the provided sinks.

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::alert::{AlertEvent, AlertState, Severity};
use crate::error::SinkError;

/// Receives alert events. Each sink gets its own queue and task in the
/// monitor, so a slow or failing sink delays neither the sampling loop nor
/// the other sinks; a failure (or panic) is counted in
/// [`MonitorStats::sink_failures`](crate::MonitorStats) and logged.
#[async_trait]
pub trait AlertSink: Send + Sync + 'static {
    /// A short name for logs and stats.
    fn name(&self) -> &str;

    /// Delivers one event.
    async fn send(&self, event: &AlertEvent) -> Result<(), SinkError>;
}

/// Logs every event as a `tracing` event (target `perfect21_monitor::alert`):
/// `error` for critical, `warn` for warning, `info` for resolved.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingSink;

#[async_trait]
impl AlertSink for TracingSink {
    fn name(&self) -> &str {
        "tracing"
    }

    async fn send(&self, event: &AlertEvent) -> Result<(), SinkError> {
        let message = event.message();
        let series = event.series.to_string();
        match (event.state, event.severity) {
            (AlertState::Resolved, _) => {
                tracing::info!(target: "perfect21_monitor::alert", rule = %event.rule, %series, value = event.value, "{message}")
            }
            (_, Severity::Critical) => {
                tracing::error!(target: "perfect21_monitor::alert", rule = %event.rule, %series, value = event.value, "{message}")
            }
            (_, Severity::Warning) => {
                tracing::warn!(target: "perfect21_monitor::alert", rule = %event.rule, %series, value = event.value, "{message}")
            }
        }
        Ok(())
    }
}

/// Sends every event into a tokio mpsc channel, for your own handling (and
/// for tests). A full channel waits; a closed one is a failure.
#[derive(Debug, Clone)]
pub struct ChannelSink {
    tx: mpsc::Sender<AlertEvent>,
}

impl ChannelSink {
    /// A sink and the receiver of its events; `capacity` at least 1.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<AlertEvent>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { tx }, rx)
    }

    /// A sink over an existing sender.
    pub fn from_sender(tx: mpsc::Sender<AlertEvent>) -> Self {
        Self { tx }
    }
}

#[async_trait]
impl AlertSink for ChannelSink {
    fn name(&self) -> &str {
        "channel"
    }

    async fn send(&self, event: &AlertEvent) -> Result<(), SinkError> {
        self.tx
            .send(event.clone())
            .await
            .map_err(|_| SinkError::Closed)
    }
}
