//! Prometheus text exposition format (version 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::registry::{Metric, Registry};
use crate::series::{Point, SeriesKey, escape_label};

const QUANTILES: [(f64, &str); 5] = [
    (0.5, "0.5"),
    (0.9, "0.9"),
    (0.95, "0.95"),
    (0.99, "0.99"),
    (0.999, "0.999"),
];

/// Writes every metric of `registry` and every point of `points` (sampled
/// host and process values, as gauges) in the Prometheus text exposition
/// format: counters as `counter`, gauges as `gauge`, latency histograms as
/// `summary` (quantiles 0.5–0.999 plus `_sum` — the exact sum — and
/// `_count`, in seconds).
/// Names and label names are sanitised to Prometheus' character set; label
/// values are escaped.
pub fn render_prometheus(registry: &Registry, points: &[Point]) -> String {
    let mut out = String::with_capacity(4096);
    let mut by_name: BTreeMap<String, Vec<(SeriesKey, Metric)>> = BTreeMap::new();
    for (key, metric) in registry.metrics() {
        by_name
            .entry(metric_name(&key.name))
            .or_default()
            .push((key, metric));
    }
    for (name, series) in &by_name {
        let kind = match series[0].1 {
            Metric::Counter(_) => "counter",
            Metric::Gauge(_) => "gauge",
            Metric::Histogram(_) => "summary",
        };
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (key, metric) in series {
            match metric {
                Metric::Counter(c) => line(&mut out, name, key, None, c.get() as f64),
                Metric::Gauge(g) => line(&mut out, name, key, None, g.get()),
                Metric::Histogram(h) => {
                    let (merged, sum_micros) = h.merged_with_sum();
                    for (q, label) in QUANTILES {
                        let v = if merged.is_empty() {
                            f64::NAN
                        } else {
                            merged.value_at_quantile(q) as f64 / 1e6
                        };
                        line(&mut out, name, key, Some(label), v);
                    }
                    // The exact sum the histogram keeps, not mean × count
                    // from the buckets (off by up to the precision).
                    let sum = sum_micros as f64 / 1e6;
                    line(&mut out, &format!("{name}_sum"), key, None, sum);
                    line(
                        &mut out,
                        &format!("{name}_count"),
                        key,
                        None,
                        merged.len() as f64,
                    );
                }
            }
        }
    }
    let mut gauges: BTreeMap<String, Vec<&Point>> = BTreeMap::new();
    for p in points {
        let name = metric_name(&p.key.name);
        if !by_name.contains_key(&name) {
            gauges.entry(name).or_default().push(p);
        }
    }
    for (name, series) in &gauges {
        let _ = writeln!(out, "# TYPE {name} gauge");
        for p in series {
            line(&mut out, name, &p.key, None, p.value);
        }
    }
    out
}

fn line(out: &mut String, name: &str, key: &SeriesKey, quantile: Option<&str>, value: f64) {
    out.push_str(name);
    if !key.labels.is_empty() || quantile.is_some() {
        out.push('{');
        let mut first = true;
        for (k, v) in &key.labels {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, "{}=\"{}\"", label_name(k), escape_label(v));
        }
        if let Some(q) = quantile {
            if !first {
                out.push(',');
            }
            let _ = write!(out, "quantile=\"{q}\"");
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(&format_value(value));
    out.push('\n');
}

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`; anything else becomes `_`.
pub(crate) fn metric_name(name: &str) -> String {
    sanitize(name, true)
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`; anything else becomes `_`.
fn label_name(name: &str) -> String {
    sanitize(name, false)
}

fn sanitize(name: &str, colon: bool) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    for (i, c) in name.chars().enumerate() {
        let ok = c.is_ascii_alphabetic()
            || c == '_'
            || (colon && c == ':')
            || (i > 0 && c.is_ascii_digit());
        if i == 0 && c.is_ascii_digit() {
            out.push('_');
            out.push(c);
        } else {
            out.push(if ok { c } else { '_' });
        }
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}
