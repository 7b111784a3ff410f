//! Names, labels and sampled points.

use std::fmt;

use serde::Serialize;

/// A metric name plus its labels, sorted by label name: the identity of one
/// time series (`disk_used_percent{mount="/"}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SeriesKey {
    /// The metric name, e.g. `cpu_usage_percent`.
    pub name: String,
    /// Label pairs, sorted by name.
    pub labels: Vec<(String, String)>,
}

impl SeriesKey {
    /// A key with the given labels (sorted here).
    pub fn new(name: impl Into<String>, labels: &[(&str, &str)]) -> Self {
        let mut labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        labels.sort();
        Self {
            name: name.into(),
            labels,
        }
    }

    /// A key without labels.
    pub fn plain(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            labels: Vec::new(),
        }
    }

    /// The value of label `name`, if present.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The same labels under another name (`requests_total` →
    /// `requests_total_per_second`).
    pub(crate) fn with_name(&self, name: String) -> Self {
        Self {
            name,
            labels: self.labels.clone(),
        }
    }
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.labels.is_empty() {
            f.write_str("{")?;
            for (i, (k, v)) in self.labels.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{k}=\"{}\"", escape_label(v))?;
            }
            f.write_str("}")?;
        }
        Ok(())
    }
}

/// Escapes a label value the way the Prometheus text format wants:
/// backslash, double quote and newline.
pub(crate) fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// One measured value of one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// Which series.
    pub key: SeriesKey,
    /// The value.
    pub value: f64,
}

impl Point {
    /// A point without labels.
    pub fn new(name: impl Into<String>, value: f64) -> Self {
        Self {
            key: SeriesKey::plain(name),
            value,
        }
    }

    /// A point with labels.
    pub fn labelled(name: impl Into<String>, labels: &[(&str, &str)], value: f64) -> Self {
        Self {
            key: SeriesKey::new(name, labels),
            value,
        }
    }
}
