//! Turning measured results into the tables of `docs/benchmarks.md` (and of
//! any crate README that carries the same markers).
//!
//! Sources, and nothing else: criterion's own files
//! (`<target>/criterion/**/new/{benchmark,estimates}.json`) and the JSON
//! results that measurements criterion does not make write under
//! `<target>/perfect21-results/` — each file an array of [`Record`]s.
//!
//! Criterion group ids start with the bench file's stem (`lru/get_hit`), which
//! is how a result finds its section. Generated text sits between
//! `<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->`; everything
//! outside the markers is prose and is kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde::Deserialize;

/// One non-criterion measurement (the schema every results file uses).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Record {
    /// The bench section: a file stem in `benches/benches` (e.g. `lru`).
    pub(crate) bench: String,
    /// What was measured, e.g. `OLTP capacity=1000 cache=lru`.
    pub(crate) case: String,
    /// The quantity, e.g. `hit_ratio`.
    pub(crate) metric: String,
    /// Its value.
    pub(crate) value: f64,
    /// Its unit, e.g. `%`, `ns`, `bytes`.
    pub(crate) unit: String,
}

/// One criterion benchmark's result.
#[derive(Debug, Clone)]
struct Estimate {
    group: String,
    function: String,
    value: Option<String>,
    mean_ns: f64,
    lower_ns: f64,
    upper_ns: f64,
    elements: Option<f64>,
    bytes: Option<f64>,
}

/// The crates whose benches get a `## perfect21-<crate>` heading.
const CRATES: [&str; 8] = [
    "object-pool",
    "lru",
    "thread-pool",
    "batch",
    "balancer",
    "redis-cache",
    "pg-stats",
    "monitor",
];

/// The heading of a bench's section.
pub(crate) fn heading(bench: &str) -> String {
    let name = bench.replace('_', "-");
    if CRATES.contains(&name.as_str()) {
        format!("perfect21-{name}")
    } else {
        bench.to_string()
    }
}

/// Reads every criterion result written since `since`.
fn criterion_results(target: &Path, since: SystemTime) -> Vec<Estimate> {
    let mut found = Vec::new();
    let mut stack = vec![target.join("criterion")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "new") {
                    if let Some(estimate) = read_estimate(&path, since) {
                        found.push(estimate);
                    }
                } else {
                    stack.push(path);
                }
            }
        }
    }
    found
}

fn read_estimate(dir: &Path, since: SystemTime) -> Option<Estimate> {
    let estimates_path = dir.join("estimates.json");
    let fresh = std::fs::metadata(&estimates_path)
        .and_then(|m| m.modified())
        .ok()?
        >= since;
    if !fresh {
        return None;
    }
    let benchmark: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("benchmark.json")).ok()?).ok()?;
    let estimates: serde_json::Value =
        serde_json::from_slice(&std::fs::read(estimates_path).ok()?).ok()?;
    // Criterion's headline figure: the slope of the linear regression where
    // it sampled linearly, the mean otherwise.
    let mean = if estimates["slope"].is_object() {
        &estimates["slope"]
    } else {
        &estimates["mean"]
    };
    let throughput = &benchmark["throughput"];
    let count = |key: &str| {
        throughput
            .get(key)
            .and_then(serde_json::Value::as_f64)
            .or_else(|| {
                throughput
                    .get("ElementsAndBytes")
                    .and_then(|t| t.get(key.to_lowercase()))
                    .and_then(serde_json::Value::as_f64)
            })
    };
    Some(Estimate {
        group: benchmark["group_id"].as_str()?.to_string(),
        function: benchmark["function_id"].as_str().unwrap_or("").to_string(),
        value: benchmark["value_str"].as_str().map(str::to_string),
        mean_ns: mean["point_estimate"].as_f64()?,
        lower_ns: mean["confidence_interval"]["lower_bound"].as_f64()?,
        upper_ns: mean["confidence_interval"]["upper_bound"].as_f64()?,
        elements: count("Elements"),
        bytes: count("Bytes").or_else(|| count("BytesDecimal")),
    })
}

/// Reads every results file written since `since`.
fn records(target: &Path, since: SystemTime) -> Result<Vec<Record>> {
    let dir = target.join("perfect21-results");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since)
        })
        .collect();
    files.sort();
    let mut all = Vec::new();
    for file in files {
        let text = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        let mut records: Vec<Record> = serde_json::from_slice(&text).with_context(|| {
            format!(
                "{} is not an array of {{bench, case, metric, value, unit}}",
                file.display()
            )
        })?;
        all.append(&mut records);
    }
    Ok(all)
}

/// Renders each bench's section and splices it into `docs/benchmarks.md`
/// and into crate READMEs that carry its markers. Returns the sections that
/// had results.
pub(crate) fn write(
    root: &Path,
    target: &Path,
    benches: &[String],
    since: SystemTime,
    context: &str,
) -> Result<Vec<String>> {
    let estimates = criterion_results(target, since);
    let records = records(target, since)?;
    let mut written = Vec::new();
    let docs = root.join("docs/benchmarks.md");
    let mut text = std::fs::read_to_string(&docs).unwrap_or_else(|_| "# Benchmarks\n".to_string());
    for bench in benches {
        let prefix = format!("{bench}/");
        let mine: Vec<&Estimate> = estimates
            .iter()
            .filter(|e| e.group.starts_with(&prefix))
            .collect();
        let my_records: Vec<&Record> = records.iter().filter(|r| &r.bench == bench).collect();
        if mine.is_empty() && my_records.is_empty() {
            eprintln!("xtask: no fresh results for `{bench}`; its section is left as it was");
            continue;
        }
        let body = render(&mine, &my_records, context);
        text = splice(&text, &heading(bench), bench, &body);
        for readme in crate_readmes(root) {
            let current = std::fs::read_to_string(&readme).unwrap_or_default();
            if current.contains(&begin_marker(bench)) {
                let updated = replace_between_markers(&current, bench, &body);
                std::fs::write(&readme, updated)
                    .with_context(|| format!("writing {}", readme.display()))?;
            }
        }
        written.push(bench.clone());
    }
    let orphans: Vec<&str> = estimates
        .iter()
        .filter(|e| {
            !benches
                .iter()
                .any(|b| e.group.starts_with(&format!("{b}/")))
        })
        .map(|e| e.group.as_str())
        .collect();
    if !orphans.is_empty() {
        eprintln!(
            "xtask: results whose group id does not start with a bench name were not rendered: {orphans:?}"
        );
    }
    std::fs::write(&docs, text).with_context(|| format!("writing {}", docs.display()))?;
    Ok(written)
}

fn crate_readmes(root: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(root.join("crates"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("README.md"))
        .filter(|p| p.is_file())
        .collect()
}

fn begin_marker(bench: &str) -> String {
    format!("<!-- bench:{bench}:begin -->")
}

fn end_marker(bench: &str) -> String {
    format!("<!-- bench:{bench}:end -->")
}

/// Replaces what lies between the markers (which must be present).
fn replace_between_markers(text: &str, bench: &str, body: &str) -> String {
    let (begin, end) = (begin_marker(bench), end_marker(bench));
    match (text.find(&begin), text.find(&end)) {
        (Some(b), Some(e)) if e > b => format!("{}{begin}\n{body}{}", &text[..b], &text[e..]),
        _ => text.to_string(),
    }
}

/// Puts `body` between the bench's markers: replaced where they exist,
/// appended to the end of the section `## heading` where they do not, and
/// a new section at the end of the document where the heading is missing.
pub(crate) fn splice(text: &str, heading: &str, bench: &str, body: &str) -> String {
    if text.contains(&begin_marker(bench)) && text.contains(&end_marker(bench)) {
        return replace_between_markers(text, bench, body);
    }
    let block = format!("{}\n{body}{}\n", begin_marker(bench), end_marker(bench));
    let title = format!("## {heading}");
    let Some(start) = text
        .lines()
        .scan(0, |offset, line| {
            let at = *offset;
            *offset += line.len() + 1;
            Some((at, line))
        })
        .find(|(_, line)| line.trim_end() == title)
        .map(|(at, _)| at)
    else {
        let mut out = text.trim_end().to_string();
        out.push_str(&format!("\n\n{title}\n\n{block}"));
        return out;
    };
    let after_title = start + title.len();
    let section_end = text[after_title..]
        .find("\n## ")
        .map_or(text.len(), |i| after_title + i + 1);
    let (head, tail) = text.split_at(section_end);
    let mut out = head.trim_end().to_string();
    out.push_str(&format!("\n\n{block}"));
    if !tail.is_empty() {
        out.push('\n');
        out.push_str(tail);
    }
    out
}

fn render(estimates: &[&Estimate], records: &[&Record], context: &str) -> String {
    let mut out = format!("_{context}_\n\n");
    let mut groups: BTreeMap<&str, Vec<&Estimate>> = BTreeMap::new();
    for e in estimates {
        groups.entry(e.group.as_str()).or_default().push(e);
    }
    for (group, rows) in groups {
        out.push_str(&format!("**`{group}`**\n\n"));
        out.push_str("| case | time | 95 % CI | throughput | time ÷ Perfect21's |\n|---|---:|---:|---:|---:|\n");
        let mut by_value: BTreeMap<Option<&str>, Vec<&Estimate>> = BTreeMap::new();
        for row in rows {
            by_value.entry(row.value.as_deref()).or_default().push(row);
        }
        for (value, mut rows) in by_value {
            rows.sort_by(|a, b| {
                (!is_ours(a), a.mean_ns)
                    .partial_cmp(&(!is_ours(b), b.mean_ns))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            let baseline = rows
                .iter()
                .find(|r| r.function == "perfect21")
                .or_else(|| rows.iter().find(|r| is_ours(r)))
                .map(|r| r.mean_ns);
            for row in rows {
                let label = match value {
                    Some(v) if !row.function.is_empty() => format!("{} · {v}", row.function),
                    Some(v) => v.to_string(),
                    None => row.function.clone(),
                };
                let ratio =
                    baseline.map_or_else(|| "—".to_string(), |b| format!("{:.2}", row.mean_ns / b));
                out.push_str(&format!(
                    "| {label} | {} | {} – {} | {} | {ratio} |\n",
                    time(row.mean_ns),
                    time(row.lower_ns),
                    time(row.upper_ns),
                    throughput(row),
                ));
            }
        }
        out.push('\n');
    }
    if !records.is_empty() {
        out.push_str(
            "**measured outside criterion**\n\n| case | metric | value |\n|---|---|---:|\n",
        );
        for r in records {
            out.push_str(&format!(
                "| {} | {} | {} {} |\n",
                r.case,
                r.metric,
                number(r.value),
                r.unit
            ));
        }
        out.push('\n');
    }
    out
}

fn is_ours(e: &Estimate) -> bool {
    e.function.starts_with("perfect21")
}

fn time(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.2} ns"),
        n if n < 1e6 => format!("{:.2} µs", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.3} s", n / 1e9),
    }
}

fn throughput(e: &Estimate) -> String {
    let per_sec = |n: f64| n / (e.mean_ns / 1e9);
    if let Some(n) = e.elements {
        scaled(per_sec(n), "elem/s")
    } else if let Some(n) = e.bytes {
        scaled(per_sec(n), "B/s")
    } else {
        "—".to_string()
    }
}

fn scaled(v: f64, unit: &str) -> String {
    match v {
        v if v >= 1e9 => format!("{:.2} G{unit}", v / 1e9),
        v if v >= 1e6 => format!("{:.2} M{unit}", v / 1e6),
        v if v >= 1e3 => format!("{:.2} K{unit}", v / 1e3),
        v => format!("{v:.2} {unit}"),
    }
}

/// Integers as they are; other values with two decimals, or with two
/// significant figures below 0.01 so a small measured value (an error rate
/// of 0.003 %) does not print as zero.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() < 0.01 {
        let decimals = (1.0 - v.abs().log10().floor()).clamp(2.0, 12.0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_appends_a_missing_section_and_keeps_prose() {
        let doc = "# Benchmarks\n\nIntro prose.\n";
        let out = splice(doc, "perfect21-lru", "lru", "TABLE\n");
        assert!(out.starts_with("# Benchmarks\n\nIntro prose.\n\n## perfect21-lru\n\n"));
        assert!(out.contains("<!-- bench:lru:begin -->\nTABLE\n<!-- bench:lru:end -->"));
        let again = splice(&out, "perfect21-lru", "lru", "NEW\n");
        assert!(again.contains("<!-- bench:lru:begin -->\nNEW\n<!-- bench:lru:end -->"));
        assert!(!again.contains("TABLE"));
        assert!(again.contains("Intro prose."));
    }

    #[test]
    fn splice_fills_an_existing_section_without_markers() {
        let doc = "# B\n\n## perfect21-lru\n\nProse about lru.\n\n## perfect21-batch\n\nMore.\n";
        let out = splice(doc, "perfect21-lru", "lru", "T\n");
        let lru = out.find("Prose about lru.").unwrap();
        let table = out.find("<!-- bench:lru:begin -->").unwrap();
        let batch = out.find("## perfect21-batch").unwrap();
        assert!(lru < table && table < batch, "{out}");
        assert!(out.ends_with("## perfect21-batch\n\nMore.\n"));
    }

    #[test]
    fn small_values_keep_two_significant_figures() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(32.834), "32.83");
        assert_eq!(number(0.5), "0.50");
        assert_eq!(number(0.003), "0.0030");
        assert_eq!(number(0.000_123_4), "0.00012");
        assert_eq!(number(-0.004), "-0.0040");
    }

    #[test]
    fn headings_name_crates() {
        assert_eq!(heading("object_pool"), "perfect21-object-pool");
        assert_eq!(heading("services"), "services");
    }

    #[test]
    fn renders_ratios_within_a_parameter() {
        let e = |f: &str, v: &str, ns| Estimate {
            group: "lru/get".into(),
            function: f.into(),
            value: Some(v.into()),
            mean_ns: ns,
            lower_ns: ns,
            upper_ns: ns,
            elements: Some(1.0),
            bytes: None,
        };
        let rows = [
            e("perfect21", "1", 10.0),
            e("peer", "1", 25.0),
            e("perfect21", "2", 100.0),
            e("peer", "2", 50.0),
        ];
        let refs: Vec<&Estimate> = rows.iter().collect();
        let out = render(&refs, &[], "ctx");
        assert!(
            out.contains("| peer · 1 | 25.00 ns | 25.00 ns – 25.00 ns | 40.00 Melem/s | 2.50 |"),
            "{out}"
        );
        assert!(
            out.contains("| peer · 2 | 50.00 ns | 50.00 ns – 50.00 ns | 20.00 Melem/s | 0.50 |"),
            "{out}"
        );
    }
}
