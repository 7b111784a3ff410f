//! A strict parser of the Prometheus text exposition format (0.0.4), for
//! checking a renderer's output: it accepts what the format allows and the
//! renderer promises, and says precisely what is wrong otherwise.
//!
//! Checked: every line ends in `\n`; `# TYPE name kind` (a known kind, once
//! per name, before the family's samples) and `# HELP name text` (only `\\`
//! and `\n` escapes); no other comment; every sample line is
//! `name{label="value",…} value` with names matching
//! `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`, each
//! once per sample, label values escaped (`\\`, `\"`, `\n` only), a value
//! that is a float, `NaN`, `+Inf` or `-Inf`, and no timestamp; each sample
//! belongs to the family of the last TYPE line (a summary's `_sum` and
//! `_count` too), whose quantile samples carry a float `quantile` label;
//! families are contiguous and never empty; no series appears twice.

use std::collections::HashSet;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's name (a summary's `_sum` / `_count` included).
    pub name: String,
    /// Label pairs, unescaped, in written order.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

/// A parsed exposition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    /// `(family, kind)` of each TYPE line, in order.
    pub types: Vec<(String, String)>,
    /// Every sample, in order.
    pub samples: Vec<Sample>,
}

const KINDS: [&str; 5] = ["counter", "gauge", "histogram", "summary", "untyped"];

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn valid_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub fn valid_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses `text`, or says which line breaks which rule.
pub fn parse(text: &str) -> Result<Exposition, String> {
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the text does not end with a newline".into());
    }
    let mut parsed = Exposition::default();
    let mut family: Option<(String, String)> = None;
    let mut family_samples = 0usize;
    let mut families_done = HashSet::new();
    let mut series = HashSet::new();
    for (number, line) in text.split_terminator('\n').enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", number + 1);
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or_else(|| at("TYPE without a kind".into()))?;
            if !valid_metric_name(name) {
                return Err(at(format!("bad family name {name:?}")));
            }
            if !KINDS.contains(&kind) {
                return Err(at(format!("unknown kind {kind:?}")));
            }
            if let Some((previous, _)) = &family {
                if family_samples == 0 {
                    return Err(at(format!("family {previous} has no sample")));
                }
                families_done.insert(previous.clone());
            }
            if families_done.contains(name) || parsed.types.iter().any(|(n, _)| n == name) {
                return Err(at(format!("second TYPE for {name}")));
            }
            family = Some((name.to_owned(), kind.to_owned()));
            family_samples = 0;
            parsed.types.push((name.to_owned(), kind.to_owned()));
        } else if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            if !valid_metric_name(name) {
                return Err(at(format!("bad HELP name {name:?}")));
            }
            check_help(help).map_err(at)?;
        } else if line.starts_with('#') {
            return Err(at("a comment that is neither TYPE nor HELP".into()));
        } else {
            let sample = parse_sample(line).map_err(at)?;
            let (name, kind) = family
                .as_ref()
                .ok_or_else(|| at("a sample before any TYPE line".into()))?;
            check_family(name, kind, &sample).map_err(at)?;
            let mut identity = sample.labels.clone();
            identity.sort();
            if !series.insert((sample.name.clone(), identity)) {
                return Err(at("a series written twice".into()));
            }
            family_samples += 1;
            parsed.samples.push(sample);
        }
    }
    if let Some((name, _)) = family
        && family_samples == 0
    {
        return Err(format!("family {name} has no sample"));
    }
    Ok(parsed)
}

fn check_help(help: &str) -> Result<(), String> {
    let mut chars = help.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && !matches!(chars.next(), Some('\\' | 'n')) {
            return Err("a HELP escape other than \\\\ or \\n".into());
        }
    }
    Ok(())
}

/// Does `sample` belong to family `name` of `kind`?
fn check_family(name: &str, kind: &str, sample: &Sample) -> Result<(), String> {
    let quantile = sample.labels.iter().find(|(k, _)| k == "quantile");
    match kind {
        "summary" if sample.name == name => {
            let (_, q) = quantile.ok_or("a summary quantile sample without `quantile`")?;
            if !valid_float(q) {
                return Err(format!("quantile {q:?} is not a float"));
            }
            Ok(())
        }
        "summary" if [format!("{name}_sum"), format!("{name}_count")].contains(&sample.name) => {
            match quantile {
                Some(_) => Err("`quantile` on a summary's _sum or _count".into()),
                None => Ok(()),
            }
        }
        "histogram"
            if [name.to_owned(), format!("{name}_bucket"), format!("{name}_sum"), format!("{name}_count")]
                .contains(&sample.name) =>
        {
            Ok(())
        }
        _ if sample.name == name => Ok(()),
        _ => Err(format!("sample {} outside its family {name} ({kind})", sample.name)),
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..end];
    if !valid_metric_name(name) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, used) = parse_labels(inner)?;
        labels = parsed;
        rest = &inner[used..];
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    if value.contains(' ') {
        return Err("more than a value after the labels".into());
    }
    let value = match value {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v if valid_float(v) => v.parse().map_err(|_| format!("bad value {v:?}"))?,
        v => return Err(format!("bad value {v:?}")),
    };
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// A decimal float as Go's `ParseFloat` and Rust both read it: optional
/// sign, digits with an optional point (at least one digit), optional
/// exponent.
fn valid_float(v: &str) -> bool {
    let v = v.strip_prefix(['+', '-']).unwrap_or(v);
    let (mantissa, exponent) = match v.find(['e', 'E']) {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    let digits = mantissa.chars().filter(char::is_ascii_digit).count();
    let points = mantissa.chars().filter(|&c| c == '.').count();
    let mantissa_ok = digits > 0 && points <= 1 && digits + points == mantissa.len();
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Parses `name="value",…}`; returns the pairs and the bytes used (the
/// closing brace included).
fn parse_labels(s: &str) -> Result<(Vec<(String, String)>, usize), String> {
    let mut labels: Vec<(String, String)> = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    if bytes.first() == Some(&b'}') {
        return Ok((labels, 1));
    }
    loop {
        let eq = s[i..].find('=').ok_or("a label without `=`")? + i;
        let name = &s[i..eq];
        if !valid_label_name(name) {
            return Err(format!("bad label name {name:?}"));
        }
        if labels.iter().any(|(n, _)| n == name) {
            return Err(format!("label {name} twice in one sample"));
        }
        if bytes.get(eq + 1) != Some(&b'"') {
            return Err("a label value without its opening quote".into());
        }
        let mut value = String::new();
        let mut chars = s[eq + 2..].char_indices();
        let close = loop {
            match chars.next() {
                None => return Err("an unterminated label value".into()),
                Some((j, '"')) => break eq + 2 + j,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("a bad escape in a label value: {other:?}")),
                },
                Some((_, c)) => value.push(c),
            }
        };
        labels.push((name.to_owned(), value));
        i = close + 1;
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return Ok((labels, i + 1)),
            _ => return Err("no `,` or `}` after a label value".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_the_format_allows() {
        let text = "# TYPE a counter\na 1\na{x=\"q\\\"\\\\\\n\"} 2.5e-3\n# TYPE s summary\n\
                    s{quantile=\"0.5\"} NaN\ns_sum 0\ns_count 0\n# HELP g a \\\\ help\n# TYPE g gauge\ng -Inf\n";
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.samples.len(), 6);
        assert_eq!(parsed.samples[1].labels[0].1, "q\"\\\n");
    }

    #[test]
    fn refuses_what_it_does_not() {
        for bad in [
            "a 1\n",
            "# TYPE a counter\na 1",
            "# TYPE a counter\na{x=\"1\",x=\"2\"} 1\n",
            "# TYPE a counter\na{x=\"\\t\"} 1\n",
            "# TYPE a counter\na 1\na 2\n",
            "# TYPE a counter\n# TYPE b counter\nb 1\n",
            "# TYPE a counter\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\na 2\n",
            "# TYPE a counter\nb 1\n",
            "# TYPE 1a counter\n1a 1\n",
            "# TYPE a counter\na{1x=\"1\"} 1\n",
            "# TYPE a counter\na inf\n",
            "# TYPE a counter\na 1 1700000000\n",
            "# TYPE s summary\ns 1\n",
            "# TYPE a counter\na{x=\"1\",} 1\n",
            "# comment\n",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
