//! Prometheus text output parsed back: line format, names, types, label
//! escaping.

use std::collections::HashMap;
use std::time::Duration;

use perfect21_monitor::{Point, Registry, render_prometheus};

#[derive(Debug, PartialEq)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A strict parser of the text format's sample lines.
fn parse(text: &str) -> (HashMap<String, String>, Vec<Sample>) {
    let mut types = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(valid_name(name), "{name}");
            assert!(["counter", "gauge", "summary"].contains(&kind), "{kind}");
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "duplicate TYPE {name}"
            );
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line}");
        let name_end = line.find(['{', ' ']).expect("name end");
        let name = &line[..name_end];
        assert!(valid_name(name), "bad name in {line:?}");
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(r) = rest.strip_prefix('{') {
            let (parsed, used) = parse_labels(r);
            labels = parsed;
            rest = &r[used..];
        }
        let value = rest.strip_prefix(' ').expect("space before value");
        let value = match value {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value {v:?}")),
        };
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    (types, samples)
}

/// Parses `a="x",b="y"}` and returns the labels and the bytes used
/// (including the closing brace).
fn parse_labels(r: &str) -> (Vec<(String, String)>, usize) {
    let chars: Vec<(usize, char)> = r.char_indices().collect();
    let mut labels = Vec::new();
    let mut i = 0;
    loop {
        let start = chars[i].0;
        while chars[i].1 != '=' {
            i += 1;
        }
        let lname = &r[start..chars[i].0];
        assert!(valid_label_name(lname), "bad label {lname:?}");
        i += 1;
        assert_eq!(chars[i].1, '"', "label value must be quoted");
        i += 1;
        let mut value = String::new();
        loop {
            match chars[i].1 {
                '\\' => {
                    value.push(match chars[i + 1].1 {
                        '\\' => '\\',
                        '"' => '"',
                        'n' => '\n',
                        c => panic!("bad escape \\{c}"),
                    });
                    i += 2;
                }
                '"' => break,
                '\n' => panic!("raw newline in a label value"),
                c => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        labels.push((lname.to_owned(), value));
        i += 1;
        match chars[i].1 {
            ',' => i += 1,
            '}' => return (labels, chars[i].0 + 1),
            c => panic!("unexpected {c:?} after a label"),
        }
    }
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> &'a Sample {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && s.labels.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(a, b)| a == k && b == v))
        })
        .unwrap_or_else(|| panic!("{name} {labels:?} missing"))
}

#[test]
fn counters_gauges_summaries_and_escaped_labels_round_trip() {
    let r = Registry::new();
    let nasty = "a \"quoted\" \\path\\\nnext line";
    r.counter(
        "http_requests_total",
        &[("route", nasty), ("method", "GET")],
    )
    .unwrap()
    .add(42);
    r.counter("http_requests_total", &[("route", "/"), ("method", "GET")])
        .unwrap()
        .add(1);
    r.gauge("db_connections", &[]).unwrap().set(17.5);
    r.gauge("weird-name.with dots", &[("bad-label", "x")])
        .unwrap()
        .set(-3.0);
    let h = r
        .histogram("request_latency_seconds", &[("route", "/")])
        .unwrap();
    for ms in 1..=100 {
        h.record(Duration::from_millis(ms));
    }
    r.histogram("empty_seconds", &[]).unwrap();
    let points = [
        Point::new("cpu_usage_percent", 12.5),
        Point::labelled("disk_used_percent", &[("mount", "/var/lib")], 40.0),
        // A registry name wins over a sampled point of the same name.
        Point::new("db_connections", 999.0),
    ];
    let text = render_prometheus(&r, &points);
    let (types, samples) = parse(&text);

    assert_eq!(types["http_requests_total"], "counter");
    assert_eq!(types["db_connections"], "gauge");
    assert_eq!(types["request_latency_seconds"], "summary");
    assert_eq!(types["cpu_usage_percent"], "gauge");
    assert_eq!(types["weird_name_with_dots"], "gauge");
    assert_eq!(
        find(
            &samples,
            "http_requests_total",
            &[("route", nasty), ("method", "GET")]
        )
        .value,
        42.0
    );
    assert_eq!(
        find(
            &samples,
            "http_requests_total",
            &[("route", "/"), ("method", "GET")]
        )
        .value,
        1.0
    );
    assert_eq!(find(&samples, "db_connections", &[]).value, 17.5);
    assert_eq!(
        samples
            .iter()
            .filter(|s| s.name == "db_connections")
            .count(),
        1
    );
    assert_eq!(
        find(&samples, "weird_name_with_dots", &[("bad_label", "x")]).value,
        -3.0
    );
    let p95 = find(
        &samples,
        "request_latency_seconds",
        &[("route", "/"), ("quantile", "0.95")],
    )
    .value;
    assert!((p95 - 0.095).abs() < 0.001, "{p95}");
    assert_eq!(
        find(&samples, "request_latency_seconds_count", &[("route", "/")]).value,
        100.0
    );
    let sum = find(&samples, "request_latency_seconds_sum", &[("route", "/")]).value;
    assert!((sum - 5.05).abs() < 0.01, "{sum}");
    assert!(
        find(&samples, "empty_seconds", &[("quantile", "0.5")])
            .value
            .is_nan()
    );
    assert_eq!(find(&samples, "empty_seconds_count", &[]).value, 0.0);
    assert_eq!(find(&samples, "cpu_usage_percent", &[]).value, 12.5);
    assert_eq!(
        find(&samples, "disk_used_percent", &[("mount", "/var/lib")]).value,
        40.0
    );
    // Every sample's family has a TYPE line before it.
    for s in &samples {
        let family = s
            .name
            .strip_suffix("_sum")
            .or_else(|| s.name.strip_suffix("_count"))
            .filter(|f| types.get(*f).is_some_and(|t| t == "summary"))
            .unwrap_or(&s.name);
        assert!(types.contains_key(family), "{} has no TYPE", s.name);
    }
    assert!(text.ends_with('\n'));
}

#[test]
fn the_summary_sum_is_exact_not_mean_times_count() {
    let r = Registry::new();
    let h = r.histogram("latency_seconds", &[]).unwrap();
    // 123 457 µs sits in a bucket 64 µs wide at 3 significant figures: a
    // sum derived from the buckets is off by tens of microseconds.
    for _ in 0..3 {
        h.record(Duration::from_micros(123_457));
    }
    h.record(Duration::from_micros(1));
    let (_, samples) = parse(&render_prometheus(&r, &[]));
    let sum = find(&samples, "latency_seconds_sum", &[]).value;
    assert_eq!(sum, 370_372.0 / 1e6, "{sum}");
    assert_eq!(find(&samples, "latency_seconds_count", &[]).value, 4.0);
    let snapshot = h.snapshot();
    assert_eq!(snapshot.sum, 370_372.0 / 1e6);
    assert_eq!(snapshot.mean, 370_372.0 / 1e6 / 4.0);
}

/// The well-formedness rules `parse` does not check by itself: each sample
/// in the family of the TYPE line above it (a summary's `_sum`/`_count`
/// included), a label name once per sample, a series once.
fn assert_well_formed(text: &str) {
    let (_, samples) = parse(text);
    let mut family: Option<(String, String)> = None;
    let mut sample_index = 0;
    let mut series = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            family = Some((name.to_owned(), kind.to_owned()));
            continue;
        }
        let sample = &samples[sample_index];
        sample_index += 1;
        let (name, kind) = family.as_ref().expect("a TYPE first");
        let belongs = sample.name == *name
            || (kind == "summary"
                && (sample.name == format!("{name}_sum")
                    || sample.name == format!("{name}_count")));
        assert!(belongs, "{} under TYPE {name} {kind}:\n{text}", sample.name);
        let mut labels = sample.labels.clone();
        labels.sort();
        let names = labels
            .iter()
            .map(|(k, _)| k)
            .collect::<std::collections::HashSet<_>>();
        assert_eq!(names.len(), labels.len(), "a label twice in {line}");
        assert!(
            series.insert((sample.name.clone(), labels)),
            "{line} twice:\n{text}"
        );
    }
}

#[test]
fn names_that_collide_once_sanitised_still_give_valid_output() {
    let r = Registry::new();
    // One family, two kinds: "a-b" and "a.b" both become a_b.
    r.counter("a-b", &[]).unwrap().add(1);
    r.gauge("a.b", &[]).unwrap().set(2.0);
    // One series twice: the label names become the same.
    r.counter("hits", &[("x-y", "1")]).unwrap().add(3);
    r.counter("hits", &[("x.y", "1")]).unwrap().add(4);
    // A label twice in one series.
    r.counter("both", &[("k-1", "a"), ("k.1", "b")])
        .unwrap()
        .add(5);
    // A user label named like the summary's own.
    r.histogram("lat", &[("quantile", "mine")])
        .unwrap()
        .record(Duration::from_millis(3));
    // A counter named like the summary's _sum series.
    r.counter("lat_sum", &[]).unwrap().add(6);
    // The same labels once sanitised, in another order (found by the fuzz
    // target): "-" sorts before "_a", ".a" before "_".
    r.counter("order", &[("-", "x"), ("_a", "y")])
        .unwrap()
        .add(7);
    r.counter("order", &[("_", "x"), (".a", "y")])
        .unwrap()
        .add(8);
    let text = render_prometheus(&r, &[Point::new("lat_count", 1.0)]);
    assert_well_formed(&text);
    let (types, samples) = parse(&text);
    assert_eq!(types["a_b"], "counter", "the first in name order keeps it");
    assert_eq!(find(&samples, "a_b", &[]).value, 1.0);
    assert_eq!(find(&samples, "hits", &[("x_y", "1")]).value, 3.0);
    assert_eq!(find(&samples, "both", &[("k_1", "a")]).value, 5.0);
    assert_eq!(find(&samples, "lat_count", &[]).value, 1.0);
    assert!(!types.contains_key("lat_sum"));
    assert_eq!(samples.iter().filter(|s| s.name == "order").count(), 1);
}
