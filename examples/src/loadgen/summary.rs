//! What a load run measured, as JSON (for `cargo xtask demo`) and as text.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::{Config, Endpoint};

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct LatencySummary {
    /// Requests measured.
    pub count: u64,
    /// Of those, failed (non-2xx or transport error).
    pub errors: u64,
    /// Requests per second over the run.
    pub rps: f64,
    /// Mean latency.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// `(percentile, ms)` from 0 to 99.99, for latency-percentile plots.
    pub curve: Vec<(f64, f64)>,
}

impl LatencySummary {
    fn new(histogram: &Histogram<u64>, errors: u64, elapsed: Duration) -> Self {
        let ms = |micros: u64| micros as f64 / 1000.0;
        let at = |q: f64| ms(histogram.value_at_quantile(q));
        let curve = [
            0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99,
        ]
        .into_iter()
        .map(|p| (p, at(p / 100.0)))
        .collect();
        Self {
            count: histogram.len(),
            errors,
            rps: histogram.len() as f64 / elapsed.as_secs_f64().max(1e-9),
            mean_ms: histogram.mean() / 1000.0,
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            max_ms: ms(histogram.max()),
            curve,
        }
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `closed` or `open`.
    pub mode: &'static str,
    /// The target.
    pub url: String,
    /// Concurrent connections.
    pub connections: usize,
    /// The open-loop rate, if any.
    pub rate: Option<f64>,
    /// Seconds measured.
    pub seconds: f64,
    /// Every request together.
    pub total: LatencySummary,
    /// Per endpoint (only those in the mix).
    pub endpoints: BTreeMap<&'static str, LatencySummary>,
    /// Responses by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// The seed of the request stream.
    pub seed: u64,
    /// CPU of the `--cpu-pid` process during the measured window.
    pub target_cpu: Option<super::cpu::TargetCpu>,
}

impl Summary {
    pub(super) fn new(
        config: &Config,
        elapsed: Duration,
        histograms: &[Histogram<u64>],
        errors: &[u64],
        statuses: BTreeMap<u16, u64>,
    ) -> Self {
        let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
        let mut endpoints = BTreeMap::new();
        for endpoint in Endpoint::ALL {
            let histogram = &histograms[endpoint.index()];
            if histogram.is_empty() {
                continue;
            }
            let _ = all.add(histogram);
            endpoints.insert(
                endpoint.name(),
                LatencySummary::new(histogram, errors[endpoint.index()], elapsed),
            );
        }
        Self {
            mode: if config.rate.is_some() {
                "open"
            } else {
                "closed"
            },
            url: config.url.clone(),
            connections: config.connections,
            rate: config.rate,
            seconds: elapsed.as_secs_f64(),
            total: LatencySummary::new(&all, errors.iter().sum(), elapsed),
            endpoints,
            statuses,
            seed: config.seed,
            target_cpu: None,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} loop, {} connections{}, {:.1} s against {}, seed {}",
            self.mode,
            self.connections,
            self.rate
                .map(|r| format!(", {r:.0} req/s scheduled"))
                .unwrap_or_default(),
            self.seconds,
            self.url,
            self.seed
        )?;
        if let Some(cpu) = &self.target_cpu {
            writeln!(
                f,
                "pid {} used {:.2} CPU s in the window: {:.1} % of one core",
                cpu.pid, cpu.seconds, cpu.percent_of_core
            )?;
        }
        writeln!(
            f,
            "{:<10} {:>9} {:>7} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "endpoint",
            "requests",
            "errors",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "p99.9",
            "max ms"
        )?;
        let rows = self
            .endpoints
            .iter()
            .map(|(n, s)| (*n, s))
            .chain(std::iter::once(("all", &self.total)));
        for (name, s) in rows {
            writeln!(
                f,
                "{name:<10} {:>9} {:>7} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
                s.count, s.errors, s.rps, s.p50_ms, s.p95_ms, s.p99_ms, s.p999_ms, s.max_ms
            )?;
        }
        Ok(())
    }
}
