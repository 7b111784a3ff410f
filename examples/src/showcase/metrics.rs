//! `/metrics` in the Prometheus text format. Every crate's `stats()`
//! snapshot is serialised and flattened into gauges named
//! `perfect21_<crate>_<field path>`; list items (statements, endpoints,
//! command families) become labels; durations become seconds. The
//! monitor's own exposition (request counters, latency summaries, host and
//! process points) follows.

use std::fmt::Write;

use serde_json::Value;

/// Appends `value` under `prefix`, as Prometheus lines.
pub fn flatten(out: &mut String, prefix: &str, labels: &str, value: &Value) {
    match value {
        Value::Number(n) => {
            if let Some(v) = n.as_f64() {
                line(out, prefix, labels, v);
            }
        }
        Value::Bool(b) => line(out, prefix, labels, f64::from(u8::from(*b))),
        Value::Object(map) => {
            if let (Some(secs), Some(nanos), 2) = (
                map.get("secs").and_then(Value::as_f64),
                map.get("nanos").and_then(Value::as_f64),
                map.len(),
            ) {
                line(
                    out,
                    &format!("{prefix}_seconds"),
                    labels,
                    secs + nanos / 1e9,
                );
                return;
            }
            for (key, child) in map {
                flatten(out, &format!("{prefix}_{}", sanitize(key)), labels, child);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let label = item
                    .as_object()
                    .and_then(|o| {
                        ["statement", "endpoint", "family"]
                            .iter()
                            .find_map(|k| o.get(*k).map(|v| (*k, v)))
                    })
                    .map(|(k, v)| {
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        format!("{k}=\"{}\"", escape(&text))
                    })
                    .unwrap_or_else(|| format!("index=\"{index}\""));
                let labels = if labels.is_empty() {
                    label
                } else {
                    format!("{labels},{label}")
                };
                flatten(out, prefix, &labels, item);
            }
        }
        Value::String(_) | Value::Null => {}
    }
}

fn line(out: &mut String, name: &str, labels: &str, value: f64) {
    if labels.is_empty() {
        let _ = writeln!(out, "{name} {value}");
    } else {
        let _ = writeln!(out, "{name}{{{labels}}} {value}");
    }
}

fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The whole exposition: one `# perfect21_<crate>` section per crate (from
/// the stats document's top-level keys), then the monitor's own text.
pub fn render(stats: &Value, monitor_text: &str) -> String {
    let mut out = String::with_capacity(64 * 1024);
    if let Value::Object(sections) = stats {
        for (section, value) in sections {
            if value.is_string() {
                continue; // e.g. "mode"
            }
            let prefix = format!("perfect21_{}", sanitize(section));
            let _ = writeln!(out, "# {prefix}");
            if value.is_null() {
                let _ = writeln!(out, "# (off: --no-cache)");
            }
            flatten(&mut out, &prefix, "", value);
        }
    }
    out.push_str(monitor_text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_numbers_durations_and_lists() {
        let stats = serde_json::json!({
            "pg_stats": {
                "statements": [{"statement": "SELECT \"x\"", "calls": 3,
                                "latency": {"p95": {"secs": 0, "nanos": 2_000_000}}}],
                "ok": true
            },
            "batch": null
        });
        let text = render(&stats, "");
        assert!(text.contains("# perfect21_pg_stats\n"), "{text}");
        assert!(
            text.contains("perfect21_pg_stats_statements_calls{statement=\"SELECT \\\"x\\\"\"} 3"),
            "{text}"
        );
        assert!(text.contains("perfect21_pg_stats_statements_latency_p95_seconds{statement=\"SELECT \\\"x\\\"\"} 0.002"), "{text}");
        assert!(text.contains("perfect21_pg_stats_ok 1"), "{text}");
        assert!(
            text.contains("# perfect21_batch\n# (off: --no-cache)"),
            "{text}"
        );
    }
}
