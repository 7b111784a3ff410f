#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod alert;
mod builder;
mod derive;
mod error;
#[cfg(feature = "metrics")]
mod facade;
mod handle;
mod histogram;
mod history;
#[cfg(feature = "webhook")]
mod http_probe;
mod monitor;
mod probe;
mod prometheus;
#[cfg(feature = "webhook")]
mod redact;
mod registry;
mod report;
mod sampler;
mod series;
mod sink;
mod stats;
#[cfg(feature = "webhook")]
mod webhook;

pub use alert::{AlertEvent, AlertRule, AlertState, Direction, Severity};
pub use builder::MonitorBuilder;
pub use error::{MonitorError, SinkError};
pub use handle::MonitorHandle;
pub use histogram::{HistogramSnapshot, LatencyHistogram, LatencyHistogramBuilder};
pub use history::{History, Summary};
#[cfg(feature = "webhook")]
pub use http_probe::{HttpProbe, HttpProbeBuilder, HttpProbeHandle};
pub use monitor::{Monitor, Snapshot};
pub use probe::{DEFAULT_MEMORY_THRESHOLD, MemoryProbe};
pub use prometheus::render_prometheus;
pub use registry::{Counter, Gauge, Metric, MetricValue, Registry};
pub use report::{
    AlertReport, ApiReport, Recommendation, Report, SeriesSummary, Stat, SystemReport,
};
pub use sampler::{SampleKinds, Sampler, SystemSampler, current_rss};
pub use series::{Point, SeriesKey};
pub use sink::{AlertSink, ChannelSink, TracingSink};
pub use stats::MonitorStats;
#[cfg(feature = "webhook")]
pub use webhook::{WebhookSink, WebhookSinkBuilder};
