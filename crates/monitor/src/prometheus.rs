//! Prometheus text exposition format (version 0.0.4).
//!
//! Names come from callers and may hold anything, so the renderer makes
//! them fit the format and keeps the output well-formed whatever they are:
//! names and label names are sanitised to Prometheus' character sets, label
//! values escaped, and what sanitising makes collide is resolved (see
//! [`render_prometheus`]).

use std::collections::{BTreeMap, HashSet};
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
///
/// Names and label names are sanitised to Prometheus' character sets
/// (anything else becomes `_`); label values are escaped. The output stays
/// valid when sanitising makes names collide: one family has one type (a
/// metric whose name sanitises to a family of another kind is left out, as
/// is one named like a summary's `_sum` or `_count` series), a series
/// appears once (the first in name order wins), a label name once per
/// series, and a summary's own `quantile` label replaces one of the same
/// name. A sampled point whose name is a registry family's is left out too.
pub fn render_prometheus(registry: &Registry, points: &[Point]) -> String {
    let mut families: BTreeMap<String, Vec<(SeriesKey, Metric)>> = BTreeMap::new();
    for (key, metric) in registry.metrics() {
        let name = metric_name(&key.name);
        let family = families.entry(name).or_default();
        if family
            .first()
            .is_none_or(|(_, first)| kind(first) == kind(&metric))
        {
            family.push((key, metric));
        }
    }
    let reserved: HashSet<String> = families
        .iter()
        .filter(|(_, series)| matches!(series[0].1, Metric::Histogram(_)))
        .flat_map(|(name, _)| [format!("{name}_sum"), format!("{name}_count")])
        .collect();
    let mut out = String::with_capacity(4096);
    let mut seen = HashSet::new();
    for (name, series) in families.iter().filter(|(n, _)| !reserved.contains(*n)) {
        let _ = writeln!(out, "# TYPE {name} {}", kind(&series[0].1));
        for (key, metric) in series {
            let labels = labels(key, matches!(metric, Metric::Histogram(_)));
            if !seen.insert((name.clone(), labels.clone())) {
                continue;
            }
            match metric {
                Metric::Counter(c) => line(&mut out, name, &labels, None, c.get() as f64),
                Metric::Gauge(g) => line(&mut out, name, &labels, None, g.get()),
                Metric::Histogram(h) => {
                    let (merged, sum_micros) = h.merged_with_sum();
                    for (q, label) in QUANTILES {
                        let v = if merged.is_empty() {
                            f64::NAN
                        } else {
                            merged.value_at_quantile(q) as f64 / 1e6
                        };
                        line(&mut out, name, &labels, Some(label), v);
                    }
                    // The exact sum the histogram keeps, not mean × count
                    // from the buckets (off by up to the precision).
                    let sum = sum_micros as f64 / 1e6;
                    line(&mut out, &format!("{name}_sum"), &labels, None, sum);
                    let count = merged.len() as f64;
                    line(&mut out, &format!("{name}_count"), &labels, None, count);
                }
            }
        }
    }
    let mut gauges: BTreeMap<String, Vec<&Point>> = BTreeMap::new();
    for p in points {
        let name = metric_name(&p.key.name);
        if !families.contains_key(&name) && !reserved.contains(&name) {
            gauges.entry(name).or_default().push(p);
        }
    }
    for (name, series) in &gauges {
        let _ = writeln!(out, "# TYPE {name} gauge");
        for p in series {
            let labels = labels(&p.key, false);
            if seen.insert((name.clone(), labels.clone())) {
                line(&mut out, name, &labels, None, p.value);
            }
        }
    }
    out
}

fn kind(metric: &Metric) -> &'static str {
    match metric {
        Metric::Counter(_) => "counter",
        Metric::Gauge(_) => "gauge",
        Metric::Histogram(_) => "summary",
    }
}

/// The series' labels as written: sanitised names, each name once (the
/// first wins), without `quantile` on a summary (which writes its own),
/// sorted by name — so two keys whose labels sanitise to the same set in
/// another order are seen as the one series they are.
fn labels(key: &SeriesKey, summary: bool) -> Vec<(String, &str)> {
    let mut out: Vec<(String, &str)> = Vec::with_capacity(key.labels.len());
    for (k, v) in &key.labels {
        let name = label_name(k);
        if (summary && name == "quantile") || out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        out.push((name, v.as_str()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn line(
    out: &mut String,
    name: &str,
    labels: &[(String, &str)],
    quantile: Option<&str>,
    value: f64,
) {
    out.push_str(name);
    if !labels.is_empty() || quantile.is_some() {
        out.push('{');
        let mut first = true;
        for (k, v) in labels {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
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
