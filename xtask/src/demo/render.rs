//! The demo's report: text for the terminal (and `report.txt`), JSON for
//! `report.json`. Every figure comes from loadgen's summaries, `/proc`, or
//! the showcase's `/stats`; nothing is typed in.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::{Value, json};

use super::{ModeRun, num};

/// Everything the demo measured.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) runs: Vec<ModeRun>,
    /// `--compare`: profile throughput with caches over without, per
    /// interleaved slice pair.
    pub(crate) compare: Option<super::interleave::Spread>,
    pub(crate) connections: u32,
    pub(crate) duration: f64,
    pub(crate) build_seconds: f64,
    pub(crate) wall_seconds: f64,
    pub(crate) machine: String,
    /// The run's seed (each phase's stream is derived from it).
    pub(crate) seed: u64,
}

/// The crates, as their sections in `/stats` and `/metrics`.
pub(crate) const SECTIONS: [&str; 8] = [
    "lru",
    "redis_cache",
    "batch",
    "pg_stats",
    "balancer",
    "thread_pool",
    "object_pool",
    "monitor",
];

fn seconds(value: Option<&Value>) -> f64 {
    value.map_or(0.0, |v| num(v, "secs") + num(v, "nanos") / 1e9)
}

fn delta(run: &ModeRun, path: &str) -> f64 {
    num(&run.after, path) - num(&run.before, path)
}

fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole)
}

/// Derived figures of one mode.
#[derive(Debug, Clone, Default)]
pub(crate) struct Figures {
    pub(crate) mix_rps: f64,
    pub(crate) p50: f64,
    pub(crate) p95: f64,
    pub(crate) p99: f64,
    pub(crate) errors: f64,
    pub(crate) profile_rps: f64,
    pub(crate) profile_p99: f64,
    pub(crate) rated_p99: f64,
    pub(crate) cpu_rated_machine: f64,
    pub(crate) cpu_mix_machine: f64,
    pub(crate) peak_rss_mb: f64,
    pub(crate) connect_mean_ms: f64,
    pub(crate) connect_max_ms: f64,
    pub(crate) l1_hit: Option<f64>,
    pub(crate) redis_hit: Option<f64>,
    pub(crate) combined_hit: Option<f64>,
    pub(crate) statements: Vec<(String, u64, f64)>,
}

fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
}

impl Figures {
    pub(crate) fn of(run: &ModeRun) -> Self {
        let mut connect_total = 0.0;
        let mut connect_count = 0.0;
        let mut connect_max: f64 = 0.0;
        let mut statements: BTreeMap<String, (u64, f64)> = BTreeMap::new();
        for pool in ["primary", "replica"] {
            let Some(stats) = run.after.pointer(&format!("/pg_stats/{pool}")) else {
                continue;
            };
            let connect = stats.pointer("/pool/connect_time");
            connect_total += seconds(connect.and_then(|c| c.get("total")));
            connect_count += connect.map_or(0.0, |c| num(c, "count"));
            connect_max = connect_max.max(seconds(connect.and_then(|c| c.get("max"))));
            for statement in stats
                .get("statements")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let text = statement
                    .get("statement")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let entry = statements.entry(text.to_string()).or_default();
                entry.0 += num(statement, "calls") as u64;
                entry.1 = entry
                    .1
                    .max(seconds(statement.pointer("/latency/p95")) * 1e3);
            }
        }
        let mut statements: Vec<(String, u64, f64)> = statements
            .into_iter()
            .filter(|(_, (calls, _))| *calls >= 100)
            .map(|(s, (c, p))| (s, c, p))
            .collect();
        statements.sort_by_key(|s| std::cmp::Reverse(s.1));
        statements.truncate(6);
        let l1_hits = delta(run, "lru.l1.hits");
        let l1_lookups = l1_hits + delta(run, "lru.l1.misses");
        let redis_hits = delta(run, "redis_cache.hits");
        let redis_lookups = redis_hits + delta(run, "redis_cache.misses");
        Figures {
            mix_rps: num(&run.mix, "total.rps"),
            p50: num(&run.mix, "total.p50_ms"),
            p95: num(&run.mix, "total.p95_ms"),
            p99: num(&run.mix, "total.p99_ms"),
            errors: num(&run.mix, "total.errors"),
            profile_rps: num(&run.profile, "total.rps"),
            profile_p99: num(&run.profile, "total.p99_ms"),
            rated_p99: num(&run.rated, "total.p99_ms"),
            cpu_rated_machine: run.cpu_rated_percent / cores(),
            cpu_mix_machine: run.cpu_mix_percent / cores(),
            peak_rss_mb: run.peak_rss as f64 / 1e6,
            connect_mean_ms: if connect_count > 0.0 {
                connect_total / connect_count * 1e3
            } else {
                0.0
            },
            connect_max_ms: connect_max * 1e3,
            l1_hit: ratio(l1_hits, l1_lookups),
            redis_hit: ratio(redis_hits, redis_lookups),
            combined_hit: ratio(l1_hits + redis_hits, l1_lookups),
            statements,
        }
    }
}

/// Upstream calls per replica during the mix: `(endpoint, calls, share)`.
pub(crate) fn upstream_requests(run: &ModeRun) -> Vec<(String, f64, f64)> {
    let list = |stats: &Value| -> Vec<(String, f64)> {
        stats
            .pointer("/balancer/upstream/endpoints")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e.get("endpoint")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string(),
                    num(e, "requests"),
                )
            })
            .collect()
    };
    let before = list(&run.before);
    let after = list(&run.after);
    let deltas: Vec<(String, f64)> = after
        .into_iter()
        .map(|(endpoint, n)| {
            let was = before
                .iter()
                .find(|(e, _)| *e == endpoint)
                .map_or(0.0, |(_, n)| *n);
            (endpoint, n - was)
        })
        .collect();
    let total: f64 = deltas.iter().map(|(_, n)| n).sum();
    deltas
        .into_iter()
        .map(|(endpoint, n)| (endpoint, n, n / total.max(1.0)))
        .collect()
}

/// `pass`, `pass (excellent)` or `FAIL`.
fn verdict(pass: bool, excellent: bool) -> &'static str {
    match (pass, excellent) {
        (true, true) => "pass (excellent)",
        (true, false) => "pass",
        (false, _) => "FAIL",
    }
}

/// ` (least–greatest slice: a–b)` of a slice summary's throughput.
fn rps_range(summary: &Value) -> String {
    match (
        summary.pointer("/rps_spread/min").and_then(Value::as_f64),
        summary.pointer("/rps_spread/max").and_then(Value::as_f64),
    ) {
        (Some(min), Some(max)) => format!(" (slices {min:.0}–{max:.0})"),
        _ => String::new(),
    }
}

/// A share as `median % (least–greatest %)`.
fn spread_pct(s: &super::interleave::Spread) -> String {
    format!(
        "{:.1} % ({:.1}–{:.1})",
        s.median * 100.0,
        s.min * 100.0,
        s.max * 100.0
    )
}

/// A ratio as `median× (least–greatest)`.
fn spread_times(s: &super::interleave::Spread) -> String {
    format!("{:.1}× ({:.1}–{:.1})", s.median, s.min, s.max)
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "off".to_string(), |v| format!("{:.2} %", v * 100.0))
}

impl Report {
    /// The report as text.
    pub(crate) fn text(&self) -> String {
        let mut o = String::new();
        let figures: Vec<Figures> = self.runs.iter().map(Figures::of).collect();
        let _ = writeln!(
            o,
            "Perfect21 showcase — cargo xtask demo{}",
            if self.runs.len() > 1 {
                " --compare"
            } else {
                ""
            }
        );
        let _ = writeln!(
            o,
            "{}; closed loop, {} connections, mix user=80,tasks=15,report=5 for {:.0} s, Zipf(0.99) ids over the seeded users",
            self.machine, self.connections, self.duration
        );
        let _ = writeln!(
            o,
            "seed {} (repeat with --seed {}): each phase and slice draws its own request stream from it{}",
            self.seed,
            self.seed,
            if self.runs.len() > 1 {
                ", the same in both modes"
            } else {
                ""
            }
        );
        let _ = writeln!(
            o,
            "Postgres, Redis, both upstreams, the showcase and loadgen share this machine; the two Postgres read endpoints are the same server.\n"
        );
        for run in &self.runs {
            let _ = writeln!(
                o,
                "Ceiling, {} (/health, a handler that does nothing, same server and middleware; median of {} 1 s slices interleaved with the profile endpoint's): {:.0} req/s{}, P50 {:.2} ms, P99 {:.2} ms",
                run.mode,
                num(&run.ceiling, "slices"),
                num(&run.ceiling, "total.rps"),
                rps_range(&run.ceiling),
                num(&run.ceiling, "total.p50_ms"),
                num(&run.ceiling, "total.p99_ms")
            );
        }
        let _ = writeln!(o);

        // The original guide's targets.
        let mut header = format!("{:<40} {:<22}", "original target", "target (excellent)");
        for run in &self.runs {
            let _ = write!(header, " {:<30}", format!("measured, {}", run.mode));
        }
        let _ = writeln!(o, "{header}");
        let _ = writeln!(o, "{}", "-".repeat(header.len()));
        type Row<'a> = (
            &'a str,
            &'a str,
            Box<dyn Fn(&Figures) -> (String, Option<&'static str>) + 'a>,
        );
        let rows: Vec<Row<'_>> = vec![
            (
                "API P50, mix",
                "—",
                Box::new(|f: &Figures| (format!("{:.2} ms", f.p50), None)),
            ),
            (
                "API P95, mix",
                "< 200 ms (< 100 ms)",
                Box::new(|f: &Figures| {
                    (
                        format!("{:.2} ms", f.p95),
                        Some(verdict(f.p95 < 200.0, f.p95 < 100.0)),
                    )
                }),
            ),
            (
                "API P99, mix",
                "—",
                Box::new(|f: &Figures| (format!("{:.2} ms", f.p99), None)),
            ),
            (
                "throughput, mix",
                "≥ 1000/s (≥ 2000/s)",
                Box::new(|f: &Figures| {
                    (
                        format!("{:.0} req/s", f.mix_rps),
                        Some(verdict(f.mix_rps >= 1000.0, f.mix_rps >= 2000.0)),
                    )
                }),
            ),
            (
                "errors, mix",
                "—",
                Box::new(|f: &Figures| (format!("{:.0}", f.errors), None)),
            ),
            (
                "peak RSS (VmHWM)",
                "< 512 MB (< 256 MB)",
                Box::new(|f: &Figures| {
                    (
                        format!("{:.1} MB", f.peak_rss_mb),
                        Some(verdict(f.peak_rss_mb < 512.0, f.peak_rss_mb < 256.0)),
                    )
                }),
            ),
            (
                "CPU at 1000 req/s (share of machine)",
                "< 70 % (< 50 %)",
                Box::new(|f: &Figures| {
                    (
                        format!("{:.1} %", f.cpu_rated_machine),
                        Some(verdict(
                            f.cpu_rated_machine < 70.0,
                            f.cpu_rated_machine < 50.0,
                        )),
                    )
                }),
            ),
            (
                "P99 at 1000 req/s (open loop, CO-corr.)",
                "—",
                Box::new(|f: &Figures| (format!("{:.2} ms", f.rated_p99), None)),
            ),
            (
                "CPU, mix saturated (share of machine)",
                "—",
                Box::new(|f: &Figures| (format!("{:.1} %", f.cpu_mix_machine), None)),
            ),
            (
                "DB connect, mean (max)",
                "< 100 ms (< 50 ms)",
                Box::new(|f: &Figures| {
                    (
                        format!("{:.1} ms ({:.1})", f.connect_mean_ms, f.connect_max_ms),
                        Some(verdict(f.connect_mean_ms < 100.0, f.connect_mean_ms < 50.0)),
                    )
                }),
            ),
            (
                "profile lookups answered by a cache ¹",
                "> 85 % (> 95 %)",
                Box::new(|f: &Figures| {
                    (
                        pct(f.combined_hit),
                        // No verdict where the caches are off by design.
                        f.combined_hit.map(|h| verdict(h > 0.85, h > 0.95)),
                    )
                }),
            ),
            (
                "  by L1 (perfect21-lru) ²",
                "—",
                Box::new(|f: &Figures| (pct(f.l1_hit), None)),
            ),
            (
                "  Redis: hits ÷ keys asked ³",
                "—",
                Box::new(|f: &Figures| (pct(f.redis_hit), None)),
            ),
        ];
        for (name, target, cell) in &rows {
            let mut line = format!("{name:<40} {target:<22}");
            for f in &figures {
                let (value, verdict) = cell(f);
                let shown = match verdict {
                    Some(v) => format!("{value}  {v}"),
                    None => value,
                };
                let _ = write!(line, " {shown:<30}");
            }
            let _ = writeln!(o, "{}", line.trim_end());
        }
        let _ = writeln!(
            o,
            "¹ (L1 hits + Redis hits) ÷ L1 lookups, over the mix; a profile request makes one L1 lookup.\n\
             ² L1 hits ÷ L1 lookups.\n\
             ³ Redis hits ÷ (Redis hits + misses): per key asked of Redis, once per key per batch (concurrent\n  \
             misses of one id coalesce into one key; a first touch is one miss, filled by get_many_or_set)."
        );
        let _ = writeln!(o, "\nper endpoint, mix (req/s, P50, P99 in ms):");
        for endpoint in ["user", "tasks", "report"] {
            let mut line = format!("  {endpoint:<8}");
            for run in &self.runs {
                let e = run
                    .mix
                    .pointer(&format!("/endpoints/{endpoint}"))
                    .unwrap_or(&Value::Null);
                let _ = write!(
                    line,
                    "  {:<9} {:>7.0}/s {:>7.2} {:>7.2}",
                    run.mode,
                    num(e, "rps"),
                    num(e, "p50_ms"),
                    num(e, "p99_ms")
                );
            }
            let _ = writeln!(o, "{line}");
        }
        let _ = writeln!(
            o,
            "\nupstream calls during the mix, the last replica answering {} ms late (perfect21-balancer, peak-EWMA):",
            super::SLOW_UPSTREAM_MS
        );
        for run in &self.runs {
            let shares: Vec<String> = upstream_requests(run)
                .iter()
                .map(|(endpoint, n, share)| format!("{endpoint} {n:.0} ({:.1} %)", share * 100.0))
                .collect();
            let _ = writeln!(o, "  {:<9} {}", run.mode, shares.join(", "));
        }
        for (i, f) in figures.iter().enumerate() {
            let _ = writeln!(
                o,
                "\nper-statement P95 from pg-stats ({}; since start, both read pools):",
                self.runs[i].mode
            );
            for (statement, calls, p95) in &f.statements {
                let short: String = statement.chars().take(90).collect();
                let _ = writeln!(o, "  {p95:>8.2} ms  {calls:>8} calls  {short}");
            }
        }

        // This machine's targets (issue 11).
        let cores = cores();
        let _ = writeln!(
            o,
            "\nTargets (set for a 2-core machine; this one has {cores:.0}), caches on:"
        );
        if let (Some(f), Some(run)) = (figures.first(), self.runs.first()) {
            let share = run.profile_share;
            let rows = [
                (
                    "profile endpoint ≥ 25 % of the /health ceiling".to_string(),
                    format!(
                        "{:.0} req/s = {}",
                        f.profile_rps,
                        share.map_or_else(|| "—".to_string(), |s| spread_pct(&s))
                    ),
                    share.is_some_and(|s| s.median >= 0.25),
                ),
                (
                    "profile endpoint P99 < 10 ms (worst 1 s slice)".to_string(),
                    format!("{:.2} ms", f.profile_p99),
                    f.profile_p99 < 10.0,
                ),
                (
                    "peak RSS < 64 MB".to_string(),
                    format!("{:.1} MB", f.peak_rss_mb),
                    f.peak_rss_mb < 64.0,
                ),
                (
                    "combined hit rate > 95 % (Zipf mix)".to_string(),
                    pct(f.combined_hit),
                    f.combined_hit.is_some_and(|h| h > 0.95),
                ),
            ];
            for (name, value, pass) in rows {
                let _ = writeln!(
                    o,
                    "  {name:<50} {value:<26} {}",
                    if pass { "pass" } else { "FAIL" }
                );
            }
        }
        if let ([on, off], [_, off_run]) = (figures.as_slice(), self.runs.as_slice()) {
            let mix = on.mix_rps / off.mix_rps.max(1e-9);
            let profile = self.compare;
            let _ = writeln!(
                o,
                "  {:<50} {:<26} {}",
                "--compare: caches + batching ≥ 5× the throughput",
                format!(
                    "profile {}",
                    profile.map_or_else(|| "—".to_string(), |s| spread_times(&s))
                ),
                if profile.is_some_and(|s| s.median >= 5.0) {
                    "pass"
                } else {
                    "FAIL"
                }
            );
            let _ = writeln!(
                o,
                "    profile endpoint: successful req/s with caches ÷ without, per pair of interleaved 1 s slices of the two showcases on the same request streams (median, least–greatest pair); mix {mix:.1}× (not interleaved: each mode's own mix phase)"
            );
            let _ = writeln!(
                o,
                "    profile endpoint alone: {:.0} req/s with caches, {:.0} req/s without (medians of each mode's slices; P99 {:.2} ms vs {:.2} ms, each the worst slice's)",
                on.profile_rps, off.profile_rps, on.profile_p99, off.profile_p99
            );
            let _ = writeln!(
                o,
                "    upper bound here: /health ceiling ÷ profile of the no-cache showcase = {:.1}× (medians of their slices; what a cache costing nothing could reach while loadgen, Postgres and Redis share the cores)",
                num(&off_run.ceiling, "total.rps") / off.profile_rps.max(1e-9)
            );
        }

        // Each crate's stats.
        for run in &self.runs {
            let _ = writeln!(
                o,
                "\nEach crate's stats at the end ({}; /metrics has them all, sections: {}):",
                run.mode,
                run.metrics_sections.join(" ")
            );
            for section in SECTIONS {
                let value = run.after.get(section).unwrap_or(&Value::Null);
                let _ = writeln!(o, "  {section}");
                summarize(&mut o, "    ", value);
            }
        }
        let _ = writeln!(
            o,
            "\nRelease build {:.0} s (incremental unless the target dir was empty); demo {:.0} s after the build. Files: target/demo/report.json, latency.svg, loadgen-*.json, *.log",
            self.build_seconds, self.wall_seconds
        );
        o
    }

    /// The report as JSON.
    pub(crate) fn json(&self) -> Value {
        let runs: Vec<Value> = self
            .runs
            .iter()
            .map(|run| {
                let f = Figures::of(run);
                json!({
                    "mode": run.mode,
                    "figures": {
                        "mix_rps": f.mix_rps, "p50_ms": f.p50, "p95_ms": f.p95, "p99_ms": f.p99, "errors": f.errors,
                        "profile_rps": f.profile_rps, "profile_p99_ms": f.profile_p99,
                        "rated_p99_ms": f.rated_p99, "cpu_at_1000_rps_percent_of_machine": f.cpu_rated_machine,
                        "cpu_mix_percent_of_machine": f.cpu_mix_machine, "peak_rss_mb": f.peak_rss_mb,
                        "db_connect_mean_ms": f.connect_mean_ms, "db_connect_max_ms": f.connect_max_ms,
                        "l1_hit_rate": f.l1_hit, "redis_hit_rate": f.redis_hit, "combined_hit_rate": f.combined_hit,
                        "statements_p95_ms": f.statements.iter().map(|(s, c, p)| json!({"statement": s, "calls": c, "p95_ms": p})).collect::<Vec<_>>(),
                    },
                    "loadgen": { "ceiling": run.ceiling, "profile": run.profile, "rated": run.rated, "mix": run.mix },
                    "profile_share_of_ceiling": run.profile_share,
                    "stats_before_mix": run.before,
                    "stats_after_mix": run.after,
                })
            })
            .collect();
        json!({
            "machine": self.machine,
            "connections": self.connections, "seed": self.seed,
            "duration_s": self.duration,
            "build_s": self.build_seconds,
            "wall_s": self.wall_seconds,
            "compare_profile_ratio": self.compare,
            "runs": runs,
        })
    }
}

/// One line per object: its direct numeric fields (durations in ms).
fn summarize(o: &mut String, indent: &str, value: &Value) {
    let Value::Object(map) = value else {
        let _ = writeln!(o, "{indent}off (--no-cache)");
        return;
    };
    let mut scalars = Vec::new();
    let mut children = Vec::new();
    for (key, v) in map {
        match v {
            Value::Number(n) => scalars.push(format!("{key}={}", short(n.as_f64().unwrap_or(0.0)))),
            Value::Object(m)
                if m.len() == 2 && m.contains_key("secs") && m.contains_key("nanos") =>
            {
                scalars.push(format!("{key}={:.3}ms", seconds(Some(v)) * 1e3));
            }
            Value::Object(_) | Value::Null => children.push((key, v)),
            _ => {}
        }
    }
    if !scalars.is_empty() {
        for chunk in scalars.chunks(8) {
            let _ = writeln!(o, "{indent}{}", chunk.join(" "));
        }
    }
    for (key, child) in children {
        if child
            .as_object()
            .is_some_and(|m| m.values().all(|v| !v.is_object() && !v.is_number()))
        {
            continue;
        }
        let _ = writeln!(o, "{indent}{key}:");
        summarize(o, &format!("{indent}  "), child);
    }
}

fn short(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::interleave::Spread;
    use super::*;

    fn run(mode: &'static str, profile_rps: f64, l1: (f64, f64), redis: (f64, f64)) -> ModeRun {
        let summary = |rps: f64, p99: f64| json!({"total": {"rps": rps, "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": p99, "errors": 0}});
        ModeRun {
            mode,
            ceiling: json!({"total": {"rps": 4000.0, "p50_ms": 0.5, "p99_ms": 1.0}, "slices": 6,
                            "rps_spread": {"median": 4000.0, "min": 3800.0, "max": 4100.0, "n": 6}}),
            profile: summary(profile_rps, 3.0),
            profile_share: Spread::of(&[
                profile_rps / 4000.0,
                profile_rps / 3900.0,
                profile_rps / 4100.0,
            ]),
            rated: summary(1000.0, 4.0),
            mix: summary(5000.0, 20.0),
            cpu_rated_percent: 50.0,
            cpu_mix_percent: 150.0,
            peak_rss: 40_000_000,
            before: json!({"lru": {"l1": {"hits": 100, "misses": 100}}, "redis_cache": {"hits": 10, "misses": 10}}),
            after: json!({"lru": {"l1": {"hits": 100.0 + l1.0, "misses": 100.0 + l1.1}},
                          "redis_cache": {"hits": 10.0 + redis.0, "misses": 10.0 + redis.1}}),
            metrics_sections: vec![],
        }
    }

    #[test]
    fn rates_divide_what_their_footnotes_say_over_the_mix_only() {
        // Over the mix: 900 L1 hits of 1000 lookups; of the 100 L1 misses
        // Redis had 80 keys and lacked 20.
        let f = Figures::of(&run("cache", 2000.0, (900.0, 100.0), (80.0, 20.0)));
        assert_eq!(f.l1_hit, Some(0.9));
        assert_eq!(f.redis_hit, Some(0.8));
        assert_eq!(f.combined_hit, Some(0.98));
        assert_eq!(f.peak_rss_mb, 40.0);
        // Nothing looked up: no rate, not 0 %.
        let none = Figures::of(&run("no-cache", 400.0, (0.0, 0.0), (0.0, 0.0)));
        assert_eq!((none.l1_hit, none.combined_hit), (None, None));
    }

    #[test]
    fn the_report_gives_its_seed_and_verdicts_from_the_figures() {
        let report = Report {
            compare: Spread::of(&[4.5, 5.0, 5.5]),
            runs: vec![
                run("cache", 2000.0, (900.0, 100.0), (80.0, 20.0)),
                run("no-cache", 400.0, (0.0, 0.0), (0.0, 0.0)),
            ],
            connections: 32,
            duration: 30.0,
            build_seconds: 1.0,
            wall_seconds: 2.0,
            machine: "test machine".into(),
            seed: 1234,
        };
        let text = report.text();
        assert!(
            text.contains("seed 1234 (repeat with --seed 1234)"),
            "{text}"
        );
        // 2000 of a 3900–4100 req/s ceiling: 50 % (48.8–51.3) ≥ 25 %.
        let line = |needle: &str| {
            text.lines()
                .find(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("no line with {needle}:\n{text}"))
                .to_owned()
        };
        assert!(line("≥ 25 % of the /health ceiling").contains("50.0 % (48.8–51.3)"));
        assert!(line("Ceiling, cache").contains("4000 req/s (slices 3800–4100)"));
        assert!(line("≥ 25 % of the /health ceiling").ends_with("pass"));
        assert!(line("combined hit rate > 95 %").contains("98.00 %"));
        assert!(line("combined hit rate > 95 %").ends_with("pass"));
        // The interleaved ratio, not the two modes' separate medians.
        assert!(line("--compare: caches + batching").contains("profile 5.0× (4.5–5.5)"));
        assert!(line("--compare: caches + batching").ends_with("pass"));
        let json = report.json();
        assert_eq!(json["seed"], 1234);
    }

    #[test]
    fn every_phase_draws_its_own_stream() {
        let seeds: std::collections::BTreeSet<u64> = super::super::PHASES
            .iter()
            .map(|p| super::super::phase_seed(7, p))
            .collect();
        assert_eq!(seeds.len(), super::super::PHASES.len());
        assert!(!seeds.contains(&7), "no phase uses the run's seed itself");
        assert_eq!(
            super::super::phase_seed(7, "mix"),
            super::super::phase_seed(7, "mix")
        );
        assert_ne!(
            super::super::phase_seed(7, "mix"),
            super::super::phase_seed(8, "mix")
        );
    }
}
