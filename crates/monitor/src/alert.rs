//! Alert rules and the per-series state machine that evaluates them.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::time::Instant;

use crate::error::{MonitorError, invalid};
use crate::series::{Point, SeriesKey};

/// Which side of the threshold is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Bad when the value is above the threshold.
    Above,
    /// Bad when the value is below the threshold.
    Below,
}

/// How bad an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Past the warning threshold.
    Warning,
    /// Past the critical threshold.
    Critical,
}

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition has held for `for_duration`: the alert starts.
    Firing,
    /// The alert went from warning to critical.
    Escalated,
    /// Still firing after `repeat_interval`: a reminder.
    Repeat,
    /// The condition cleared (past the hysteresis band), or the series
    /// stopped reporting ([`AlertEvent::absent`]): the alert ends.
    Resolved,
}

/// One threshold rule on one metric name (every series of that name, or
/// only those with the given labels).
///
/// ```
/// use std::time::Duration;
/// use perfect21_monitor::AlertRule;
///
/// let rule = AlertRule::above("high_cpu", "cpu_usage_percent", 80.0)
///     .for_duration(Duration::from_secs(120))
///     .critical(95.0)
///     .repeat_interval(Duration::from_secs(600))
///     .hysteresis(0.1);
/// assert_eq!(rule.critical_threshold(), 95.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRule {
    name: String,
    metric: String,
    labels: Vec<(String, String)>,
    direction: Direction,
    warning: f64,
    critical: Option<f64>,
    #[serde(with = "secs")]
    for_duration: Duration,
    #[serde(with = "secs")]
    repeat_interval: Duration,
    hysteresis: f64,
}

mod secs {
    use std::time::Duration;
    pub(super) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

impl AlertRule {
    /// Fires when `metric` stays above `warning`. Defaults: critical at
    /// 1.2 × warning, `for_duration` 60 s, `repeat_interval` 5 min,
    /// hysteresis 5 %.
    pub fn above(name: impl Into<String>, metric: impl Into<String>, warning: f64) -> Self {
        Self::new(name, metric, Direction::Above, warning)
    }

    /// Fires when `metric` stays below `warning`. Defaults as
    /// [`above`](Self::above); the critical threshold defaults to
    /// warning ÷ 1.2.
    pub fn below(name: impl Into<String>, metric: impl Into<String>, warning: f64) -> Self {
        Self::new(name, metric, Direction::Below, warning)
    }

    fn new(
        name: impl Into<String>,
        metric: impl Into<String>,
        dir: Direction,
        warning: f64,
    ) -> Self {
        Self {
            name: name.into(),
            metric: metric.into(),
            labels: Vec::new(),
            direction: dir,
            warning,
            critical: None,
            for_duration: Duration::from_secs(60),
            repeat_interval: Duration::from_secs(300),
            hysteresis: 0.05,
        }
    }

    /// Only series carrying all these labels.
    pub fn labels(mut self, labels: &[(&str, &str)]) -> Self {
        self.labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self
    }

    /// An explicit critical threshold.
    pub fn critical(mut self, threshold: f64) -> Self {
        self.critical = Some(threshold);
        self
    }

    /// How long the condition must hold before the alert fires (zero: on
    /// the first sample).
    pub fn for_duration(mut self, d: Duration) -> Self {
        self.for_duration = d;
        self
    }

    /// How often a firing alert is sent again (its de-duplication window).
    pub fn repeat_interval(mut self, d: Duration) -> Self {
        self.repeat_interval = d;
        self
    }

    /// Fraction of the threshold the value must move back past before the
    /// alert resolves: with 80 and 0.05, an `above` alert resolves below 76.
    /// 0 to 0.5.
    pub fn hysteresis(mut self, fraction: f64) -> Self {
        self.hysteresis = fraction;
        self
    }

    /// The rule's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The metric it watches.
    pub fn metric(&self) -> &str {
        &self.metric
    }

    /// The warning threshold.
    pub fn warning_threshold(&self) -> f64 {
        self.warning
    }

    /// The critical threshold (explicit, or 1.2 × warning for `above`,
    /// warning ÷ 1.2 for `below`).
    pub fn critical_threshold(&self) -> f64 {
        self.critical.unwrap_or(match self.direction {
            Direction::Above => self.warning * 1.2,
            Direction::Below => self.warning / 1.2,
        })
    }

    /// The rule set of the original guide: CPU above 80 %, memory above
    /// 85 %, disk above 90 % (any mount), request latency P95 above 1 s,
    /// error rate above 5 %, database connections above 100 (the
    /// application gauge `db_connections`).
    pub fn defaults() -> Vec<AlertRule> {
        vec![
            AlertRule::above("high_cpu", "cpu_usage_percent", 80.0),
            AlertRule::above("high_memory", "memory_used_percent", 85.0),
            AlertRule::above("disk_full", "disk_used_percent", 90.0),
            AlertRule::above("slow_requests", "request_latency_seconds_p95", 1.0),
            AlertRule::above("high_error_rate", "error_rate_percent", 5.0),
            AlertRule::above("too_many_db_connections", "db_connections", 100.0),
        ]
    }

    pub(crate) fn validate(&self) -> Result<(), MonitorError> {
        if self.name.is_empty() {
            return Err(invalid("rule.name", "must not be empty"));
        }
        if self.metric.is_empty() {
            return Err(invalid("rule.metric", "must not be empty"));
        }
        if !self.warning.is_finite() {
            return Err(invalid("rule.warning", "must be a finite number"));
        }
        let crit = self.critical_threshold();
        let ordered = match self.direction {
            Direction::Above => crit >= self.warning,
            Direction::Below => crit <= self.warning,
        };
        if !crit.is_finite() || !ordered {
            return Err(invalid(
                "rule.critical",
                format!(
                    "must be a finite number on the far side of the warning threshold {} (rule `{}`)",
                    self.warning, self.name
                ),
            ));
        }
        if !(0.0..=0.5).contains(&self.hysteresis) {
            return Err(invalid(
                "rule.hysteresis",
                format!("must be 0.0..=0.5, got {}", self.hysteresis),
            ));
        }
        if self.repeat_interval.is_zero() {
            return Err(invalid("rule.repeat_interval", "must be greater than zero"));
        }
        Ok(())
    }

    fn matches(&self, key: &SeriesKey) -> bool {
        key.name == self.metric
            && self
                .labels
                .iter()
                .all(|(k, v)| key.label(k) == Some(v.as_str()))
    }

    fn breaches(&self, value: f64, threshold: f64) -> bool {
        match self.direction {
            Direction::Above => value > threshold,
            Direction::Below => value < threshold,
        }
    }

    /// True once the value is back past the threshold by the hysteresis
    /// band.
    fn cleared(&self, value: f64, threshold: f64) -> bool {
        let band = threshold.abs() * self.hysteresis;
        match self.direction {
            Direction::Above => value < threshold - band,
            Direction::Below => value > threshold + band,
        }
    }
}

/// One alert notification, as handed to every [`AlertSink`](crate::AlertSink).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    /// The rule's name.
    pub rule: String,
    /// The series that breached.
    pub series: SeriesKey,
    /// What happened.
    pub state: AlertState,
    /// How bad (for `Resolved`: the level it had).
    pub severity: Severity,
    /// The value that triggered this event.
    pub value: f64,
    /// The threshold of `severity`.
    pub threshold: f64,
    /// The rule's direction.
    pub direction: Direction,
    /// Seconds since the condition started (for `Resolved`: how long it lasted).
    pub active_seconds: f64,
    /// Wall-clock time of the event, seconds since the Unix epoch.
    pub timestamp: f64,
    /// A `Resolved` event sent because the series stopped reporting for
    /// the monitor's
    /// [`series_absent_after`](crate::MonitorBuilder::series_absent_after):
    /// `value` is then the last value it reported.
    pub absent: bool,
}

impl AlertEvent {
    /// A one-line human description, e.g.
    /// `WARNING high_cpu firing: cpu_usage_percent = 91.000 above 80 for 60 s`.
    pub fn message(&self) -> String {
        let side = match self.direction {
            Direction::Above => "above",
            Direction::Below => "below",
        };
        let level = match self.severity {
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
        };
        let what = match self.state {
            AlertState::Firing => "firing",
            AlertState::Escalated => "escalated",
            AlertState::Repeat => "still firing",
            AlertState::Resolved if self.absent => {
                return format!(
                    "RESOLVED {}: {} stopped reporting (last value {:.3}; was {level} for {:.0} s)",
                    self.rule, self.series, self.value, self.active_seconds
                );
            }
            AlertState::Resolved => {
                return format!(
                    "RESOLVED {}: {} = {:.3} (was {level} for {:.0} s)",
                    self.rule, self.series, self.value, self.active_seconds
                );
            }
        };
        format!(
            "{level} {} {what}: {} = {:.3} {side} {} for {:.0} s",
            self.rule, self.series, self.value, self.threshold, self.active_seconds
        )
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Pending,
    Firing {
        severity: Severity,
        last_sent: Instant,
    },
}

#[derive(Debug, Clone, Copy)]
struct SeriesState {
    phase: Phase,
    since: Instant,
    critical_since: Option<Instant>,
    /// The last tick that had a (finite) point of the series, and its value.
    seen: Instant,
    value: f64,
}

/// Evaluates the rules against each tick's points; keeps one state per
/// (rule, series) that is pending or firing, and drops it when the series
/// has been absent for `absent_after` (resolving it if it was firing), so
/// the states are bounded by the series that still report.
#[derive(Debug)]
pub(crate) struct AlertEngine {
    rules: Vec<AlertRule>,
    states: HashMap<(usize, SeriesKey), SeriesState>,
    absent_after: Duration,
}

impl AlertEngine {
    pub(crate) fn new(rules: Vec<AlertRule>, absent_after: Duration) -> Self {
        Self {
            rules,
            states: HashMap::new(),
            absent_after,
        }
    }

    /// The events this tick produces: those of the points, in rule order,
    /// then the resolutions of firing series gone absent.
    pub(crate) fn evaluate(&mut self, points: &[Point], now: Instant) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            for p in points.iter().filter(|p| rule.matches(&p.key)) {
                if !p.value.is_finite() {
                    continue;
                }
                let id = (i, p.key.clone());
                let state = self.states.get(&id).copied();
                match step(rule, state, p, now) {
                    (Some(mut next), ev) => {
                        next.seen = now;
                        next.value = p.value;
                        self.states.insert(id, next);
                        events.extend(ev);
                    }
                    (None, ev) => {
                        self.states.remove(&id);
                        events.extend(ev);
                    }
                }
            }
        }
        self.drop_absent(now, &mut events);
        events
    }

    /// Forgets every series not seen for `absent_after`; a firing one
    /// resolves with an `absent` event.
    fn drop_absent(&mut self, now: Instant, events: &mut Vec<AlertEvent>) {
        let (rules, absent_after) = (&self.rules, self.absent_after);
        self.states.retain(|(i, key), s| {
            if now.saturating_duration_since(s.seen) < absent_after {
                return true;
            }
            if let (Phase::Firing { severity, .. }, Some(rule)) = (s.phase, rules.get(*i)) {
                let mut event = new_event(rule, key, AlertState::Resolved, severity, s.value);
                event.active_seconds = now.saturating_duration_since(s.since).as_secs_f64();
                event.absent = true;
                events.push(event);
            }
            false
        });
    }

    /// How many (rule, series) states are kept.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.states.len()
    }
}

/// An event of `rule` on `series`, timestamped now; `active_seconds` 0.
fn new_event(
    rule: &AlertRule,
    series: &SeriesKey,
    state: AlertState,
    severity: Severity,
    value: f64,
) -> AlertEvent {
    AlertEvent {
        rule: rule.name.clone(),
        series: series.clone(),
        state,
        severity,
        value,
        threshold: match severity {
            Severity::Warning => rule.warning,
            Severity::Critical => rule.critical_threshold(),
        },
        direction: rule.direction,
        active_seconds: 0.0,
        timestamp: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0),
        absent: false,
    }
}

fn step(
    rule: &AlertRule,
    state: Option<SeriesState>,
    p: &Point,
    now: Instant,
) -> (Option<SeriesState>, Option<AlertEvent>) {
    let v = p.value;
    let warn = rule.warning;
    let crit = rule.critical_threshold();
    let event = |state: AlertState, severity: Severity, since: Instant| AlertEvent {
        active_seconds: now.saturating_duration_since(since).as_secs_f64(),
        ..new_event(rule, &p.key, state, severity, v)
    };
    let held = |since: Instant| now.saturating_duration_since(since) >= rule.for_duration;
    let Some(mut s) = state else {
        if !rule.breaches(v, warn) {
            return (None, None);
        }
        let s = SeriesState {
            phase: Phase::Pending,
            since: now,
            critical_since: rule.breaches(v, crit).then_some(now),
            seen: now,
            value: v,
        };
        // A zero for_duration fires on this very sample.
        return step_pending(rule, s, now, held, &event);
    };
    match s.phase {
        Phase::Pending => {
            if !rule.breaches(v, warn) {
                return (None, None);
            }
            s.critical_since = if rule.breaches(v, crit) {
                s.critical_since.or(Some(now))
            } else {
                None
            };
            step_pending(rule, s, now, held, &event)
        }
        Phase::Firing {
            severity,
            last_sent,
        } => {
            if rule.cleared(v, warn) {
                return (None, Some(event(AlertState::Resolved, severity, s.since)));
            }
            s.critical_since = if rule.breaches(v, crit) {
                s.critical_since.or(Some(now))
            } else {
                None
            };
            let crit_held = s.critical_since.is_some_and(held);
            if severity == Severity::Warning && crit_held {
                s.phase = Phase::Firing {
                    severity: Severity::Critical,
                    last_sent: now,
                };
                return (
                    Some(s),
                    Some(event(AlertState::Escalated, Severity::Critical, s.since)),
                );
            }
            let severity = if severity == Severity::Critical && rule.cleared(v, crit) {
                Severity::Warning
            } else {
                severity
            };
            if now.saturating_duration_since(last_sent) >= rule.repeat_interval {
                s.phase = Phase::Firing {
                    severity,
                    last_sent: now,
                };
                return (Some(s), Some(event(AlertState::Repeat, severity, s.since)));
            }
            s.phase = Phase::Firing {
                severity,
                last_sent,
            };
            (Some(s), None)
        }
    }
}

fn step_pending(
    _rule: &AlertRule,
    mut s: SeriesState,
    now: Instant,
    held: impl Fn(Instant) -> bool,
    event: &impl Fn(AlertState, Severity, Instant) -> AlertEvent,
) -> (Option<SeriesState>, Option<AlertEvent>) {
    if !held(s.since) {
        return (Some(s), None);
    }
    let severity = if s.critical_since.is_some_and(&held) {
        Severity::Critical
    } else {
        Severity::Warning
    };
    s.phase = Phase::Firing {
        severity,
        last_sent: now,
    };
    (Some(s), Some(event(AlertState::Firing, severity, s.since)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_of_vanished_series_are_dropped() {
        let rule = AlertRule::above("deep", "depth", 1.0).for_duration(Duration::from_secs(60));
        let mut engine = AlertEngine::new(vec![rule], Duration::from_secs(5));
        let start = Instant::now();
        // A thousand series breach once each (pending) and never return.
        for i in 0..1000 {
            let name = i.to_string();
            let point = Point::labelled("depth", &[("id", &name)], 2.0);
            let at = start + Duration::from_millis(i);
            assert!(engine.evaluate(&[point], at).is_empty());
        }
        assert!(engine.tracked() > 0);
        let later = start + Duration::from_secs(10);
        assert!(
            engine.evaluate(&[], later).is_empty(),
            "pending: nothing to resolve"
        );
        assert_eq!(engine.tracked(), 0);
    }
}
