//! Reports over a window of history: a serde value and a human text.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::alert::{AlertEvent, AlertState, Direction, Severity};
use crate::error::{MonitorError, invalid};
use crate::history::{History, Summary};
use crate::monitor::unix_now;
use crate::series::SeriesKey;

/// Names of the application metrics the API section reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiNames {
    pub(crate) requests: String,
    pub(crate) errors: String,
    pub(crate) latency: String,
}

impl Default for ApiNames {
    fn default() -> Self {
        Self {
            requests: "requests_total".into(),
            errors: "errors_total".into(),
            latency: "request_latency_seconds".into(),
        }
    }
}

/// Which statistic of a series' window a [`Recommendation`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    /// The latest value.
    Current,
    /// The mean (a *sustained* level).
    Avg,
    /// The smallest value.
    Min,
    /// The largest value.
    Max,
    /// The 95th percentile.
    P95,
}

impl Stat {
    fn of(self, s: &Summary) -> f64 {
        match self {
            Stat::Current => s.current,
            Stat::Avg => s.avg,
            Stat::Min => s.min,
            Stat::Max => s.max,
            Stat::P95 => s.p95,
        }
    }
}

/// One row of the report's recommendation table: when `stat` of any series
/// of `metric` over the window is past `threshold`, the report gives
/// `advice`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The metric name.
    pub metric: String,
    /// The statistic compared.
    pub stat: Stat,
    /// Which side of the threshold triggers.
    pub direction: Direction,
    /// The threshold.
    pub threshold: f64,
    /// What to do about it.
    pub advice: String,
}

impl Recommendation {
    /// Advice when `stat` of `metric` is above `threshold`.
    pub fn above(metric: &str, stat: Stat, threshold: f64, advice: &str) -> Self {
        Self {
            metric: metric.into(),
            stat,
            direction: Direction::Above,
            threshold,
            advice: advice.into(),
        }
    }

    /// Advice when `stat` of `metric` is below `threshold`.
    pub fn below(metric: &str, stat: Stat, threshold: f64, advice: &str) -> Self {
        Self {
            direction: Direction::Below,
            ..Self::above(metric, stat, threshold, advice)
        }
    }

    /// The default table, after the original guide's daily report.
    pub fn defaults() -> Vec<Recommendation> {
        vec![
            Recommendation::above(
                "cpu_usage_percent",
                Stat::Avg,
                70.0,
                "CPU is sustained above 70 %: add workers or optimise the hot path",
            ),
            Recommendation::above(
                "memory_used_percent",
                Stat::Avg,
                80.0,
                "memory is above 80 %: look for leaks, bound caches, or add memory",
            ),
            Recommendation::above(
                "disk_used_percent",
                Stat::Max,
                85.0,
                "disk is above 85 %: rotate logs or grow the volume",
            ),
            Recommendation::above(
                "request_latency_seconds_p95",
                Stat::Avg,
                0.2,
                "request P95 is above 200 ms: profile the slow endpoints, cache or batch their database calls",
            ),
            Recommendation::above(
                "error_rate_percent",
                Stat::Avg,
                1.0,
                "error rate is above 1 %: read the error logs of the failing routes",
            ),
        ]
    }

    pub(crate) fn validate(&self) -> Result<(), MonitorError> {
        if self.metric.is_empty() {
            return Err(invalid("recommendation.metric", "must not be empty"));
        }
        if !self.threshold.is_finite() {
            return Err(invalid(
                "recommendation.threshold",
                "must be a finite number",
            ));
        }
        Ok(())
    }
}

/// A series and its summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesSummary {
    /// The series, e.g. `disk_used_percent{mount="/"}`.
    pub series: String,
    /// Its statistics over the window.
    pub summary: Summary,
}

/// The system part of a [`Report`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SystemReport {
    /// `cpu_usage_percent`.
    pub cpu_percent: Option<Summary>,
    /// `load_average_1m`.
    pub load_1m: Option<Summary>,
    /// `memory_used_percent`.
    pub memory_percent: Option<Summary>,
    /// `swap_used_bytes`.
    pub swap_used_bytes: Option<Summary>,
    /// `disk_used_percent` of each mount.
    pub disks_percent: Vec<SeriesSummary>,
    /// `process_resident_memory_bytes`.
    pub process_rss_bytes: Option<Summary>,
    /// `process_cpu_percent`.
    pub process_cpu_percent: Option<Summary>,
}

/// The API part of a [`Report`] (from the application metrics).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ApiReport {
    /// `request_rate_per_second`.
    pub request_rate: Option<Summary>,
    /// `error_rate_percent`.
    pub error_rate_percent: Option<Summary>,
    /// The per-interval P95 of each latency series, in seconds.
    pub latency_p95_seconds: Vec<SeriesSummary>,
}

/// Alert activity in the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlertReport {
    /// Alerts that started.
    pub fired: usize,
    /// Of those and escalations, how many reached critical.
    pub critical: usize,
    /// Alerts that resolved.
    pub resolved: usize,
    /// The events themselves (at most the last 1024).
    pub events: Vec<AlertEvent>,
}

/// What the monitor saw over a window: system, API, alerts and
/// recommendations. Serialises with serde; [`text`](Self::text) renders it
/// for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// When it was made, seconds since the Unix epoch.
    pub generated_at: f64,
    /// That day, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// The window, in seconds.
    pub window_seconds: f64,
    /// Host and process.
    pub system: SystemReport,
    /// Application requests and errors.
    pub api: ApiReport,
    /// Alert activity.
    pub alerts: AlertReport,
    /// Advice from the recommendation table.
    pub recommendations: Vec<String>,
}

fn named(history: &History, name: &str, window: Duration) -> Vec<SeriesSummary> {
    history
        .summaries_named(name, window)
        .into_iter()
        .map(|(k, summary)| SeriesSummary {
            series: k.to_string(),
            summary,
        })
        .collect()
}

impl Report {
    pub(crate) fn build(
        history: &History,
        events: Vec<AlertEvent>,
        table: &[Recommendation],
        api: &ApiNames,
        window: Duration,
    ) -> Self {
        let one = |name: &str| history.summary(&SeriesKey::plain(name), window);
        let system = SystemReport {
            cpu_percent: one("cpu_usage_percent"),
            load_1m: one("load_average_1m"),
            memory_percent: one("memory_used_percent"),
            swap_used_bytes: one("swap_used_bytes"),
            disks_percent: named(history, "disk_used_percent", window),
            process_rss_bytes: one("process_resident_memory_bytes"),
            process_cpu_percent: one("process_cpu_percent"),
        };
        let api = ApiReport {
            request_rate: one("request_rate_per_second"),
            error_rate_percent: one("error_rate_percent"),
            latency_p95_seconds: named(history, &format!("{}_p95", api.latency), window),
        };
        let alerts = AlertReport {
            fired: events
                .iter()
                .filter(|e| e.state == AlertState::Firing)
                .count(),
            critical: events
                .iter()
                .filter(|e| {
                    e.severity == Severity::Critical
                        && matches!(e.state, AlertState::Firing | AlertState::Escalated)
                })
                .count(),
            resolved: events
                .iter()
                .filter(|e| e.state == AlertState::Resolved)
                .count(),
            events,
        };
        let mut recommendations = Vec::new();
        for r in table {
            for (key, s) in history.summaries_named(&r.metric, window) {
                let v = r.stat.of(&s);
                let hit = match r.direction {
                    Direction::Above => v > r.threshold,
                    Direction::Below => v < r.threshold,
                };
                if hit {
                    recommendations.push(format!("{} ({:?} {:.2}): {}", key, r.stat, v, r.advice));
                }
            }
        }
        let now = unix_now();
        Report {
            generated_at: now,
            date: civil_date(now),
            window_seconds: window.as_secs_f64(),
            system,
            api,
            alerts,
            recommendations,
        }
    }

    /// The report as text, like the original daily report.
    pub fn text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Performance report {} (last {:.0} s)\n",
            self.date, self.window_seconds
        );
        t.push_str("System\n");
        row(&mut t, "CPU %", self.system.cpu_percent.as_ref(), 1.0, "");
        row(
            &mut t,
            "load (1 min)",
            self.system.load_1m.as_ref(),
            1.0,
            "",
        );
        row(
            &mut t,
            "memory %",
            self.system.memory_percent.as_ref(),
            1.0,
            "",
        );
        row(
            &mut t,
            "swap used",
            self.system.swap_used_bytes.as_ref(),
            1.0 / 1_048_576.0,
            " MiB",
        );
        for d in &self.system.disks_percent {
            row(
                &mut t,
                &format!("disk % {}", d.series),
                Some(&d.summary),
                1.0,
                "",
            );
        }
        row(
            &mut t,
            "process RSS",
            self.system.process_rss_bytes.as_ref(),
            1.0 / 1_048_576.0,
            " MiB",
        );
        row(
            &mut t,
            "process CPU %",
            self.system.process_cpu_percent.as_ref(),
            1.0,
            "",
        );
        t.push_str("\nAPI\n");
        row(
            &mut t,
            "requests/s",
            self.api.request_rate.as_ref(),
            1.0,
            "",
        );
        for l in &self.api.latency_p95_seconds {
            row(
                &mut t,
                &format!("P95 {}", l.series),
                Some(&l.summary),
                1000.0,
                " ms",
            );
        }
        t.push_str("\nErrors\n");
        row(
            &mut t,
            "error rate %",
            self.api.error_rate_percent.as_ref(),
            1.0,
            "",
        );
        let _ = writeln!(
            t,
            "  alerts: {} fired, {} critical, {} resolved",
            self.alerts.fired, self.alerts.critical, self.alerts.resolved
        );
        t.push_str("\nRecommendations\n");
        if self.recommendations.is_empty() {
            t.push_str("  none: every figure is within its table threshold\n");
        }
        for r in &self.recommendations {
            let _ = writeln!(t, "  - {r}");
        }
        t
    }

    /// Writes the report to `path`: JSON when it ends in `.json`, text
    /// otherwise; a directory gets `report-YYYY-MM-DD.txt` inside it.
    /// Returns the path written.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<PathBuf, MonitorError> {
        let mut path = path.as_ref().to_path_buf();
        if path.is_dir() {
            path = path.join(format!("report-{}.txt", self.date));
        }
        let body = if path.extension().is_some_and(|e| e == "json") {
            serde_json::to_string_pretty(self)?
        } else {
            self.text()
        };
        std::fs::write(&path, body)?;
        Ok(path)
    }
}

fn row(t: &mut String, label: &str, s: Option<&Summary>, scale: f64, unit: &str) {
    match s {
        Some(s) => {
            let _ = writeln!(
                t,
                "  {label:<28} now {:>10.2}{unit}  avg {:>10.2}{unit}  min {:>10.2}{unit}  max {:>10.2}{unit}  p95 {:>10.2}{unit}  ({} samples)",
                s.current * scale,
                s.avg * scale,
                s.min * scale,
                s.max * scale,
                s.p95 * scale,
                s.count
            );
        }
        None => {
            let _ = writeln!(t, "  {label:<28} not measured");
        }
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time (Howard Hinnant's civil-from-days).
pub(crate) fn civil_date(unix_secs: f64) -> String {
    let days = (unix_secs / 86_400.0).floor() as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::civil_date;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0.0), "1970-01-01");
        assert_eq!(civil_date(951_782_400.0), "2000-02-29");
        assert_eq!(civil_date(1_795_000_000.0), "2026-11-18");
    }
}
