//! `cargo xtask demo [--duration S] [--connections N] [--users N] [--seed N] [--compare]`: the main job.
//!
//! Starts Redis and Postgres through the testkit, builds the examples in
//! release, starts two upstream replicas and the showcase (each in its own
//! process group, stopped on every exit path), then drives the showcase
//! with `loadgen`:
//!
//! 1. warm-up — the mix for 3 s, not measured (plus the showcase's own
//!    warmer, `--warm`, which preloads the hottest users);
//! 2. the ceiling — `/health`, a handler that does nothing — and the
//!    profile endpoint alone, closed loop, in interleaved 1 s slices (A B B
//!    A …, 6 each after a warm-up slice each), so the profile's share of
//!    the ceiling is taken per slice pair and reported with its spread;
//! 3. the original's rate — the mix at 1000 req/s, open loop (CPU is read here);
//! 4. the mix (`user=80,tasks=15,report=5`) for `--duration` seconds, closed
//!    loop, with upstream replica `b` answering 20 ms late (the balancer
//!    should steer the report's calls to `a`).
//!
//! Each phase draws its own request stream from the run's seed (`--seed`,
//! printed in the report; the two modes of `--compare` draw the same
//! ones). loadgen reads the showcase's CPU time from `/proc` at the edges
//! of its measured window; the demo reads its peak RSS and its
//! `/stats` before and after the mix (hit rates are over the mix only), and
//! prints the report; `target/demo/report.json` and
//! `target/demo/latency.svg` hold the same. `--compare` starts a second
//! showcase with `--no-cache` beside the first, runs every phase on it too,
//! and takes the ratio its verdict rests on (profile throughput with caches
//! over without) from interleaved slices of the two, with its spread.

mod child;
mod http;
mod interleave;
mod render;
mod svg;

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::services::Services;
use crate::{cargo, run, signals};
use child::Running;

/// How much slower the last upstream replica answers during the mix.
pub(crate) const SLOW_UPSTREAM_MS: u64 = 20;

/// What one mode (caches on, or off) measured.
#[derive(Debug, Clone)]
pub(crate) struct ModeRun {
    pub(crate) mode: &'static str,
    /// `/health` (a handler that does nothing), medians over its slices.
    pub(crate) ceiling: Value,
    /// The profile endpoint alone, medians over its slices.
    pub(crate) profile: Value,
    /// Profile ÷ ceiling throughput, per interleaved slice pair.
    pub(crate) profile_share: Option<interleave::Spread>,
    pub(crate) rated: Value,
    pub(crate) mix: Value,
    pub(crate) cpu_rated_percent: f64,
    pub(crate) cpu_mix_percent: f64,
    pub(crate) peak_rss: u64,
    pub(crate) before: Value,
    pub(crate) after: Value,
    pub(crate) metrics_sections: Vec<String>,
}

struct Options {
    duration: f64,
    connections: u32,
    compare: bool,
    users: u64,
    /// The run's seed; each phase draws its own stream from it.
    seed: u64,
}

/// The phases that drive load, in order; each draws its own request
/// stream ([`phase_seed`]), the same one in both modes of `--compare`.
pub(crate) const PHASES: [&str; 6] = ["warmup", "ceiling", "profile", "rated", "mix", "compare"];

/// The seed of `phase` in a run seeded `seed`: distinct for every phase,
/// so no phase replays another's stream (the warm-up is never the
/// measured stream).
pub(crate) fn phase_seed(seed: u64, phase: &str) -> u64 {
    let index = PHASES
        .iter()
        .position(|p| *p == phase)
        .unwrap_or(PHASES.len()) as u64;
    mix(seed ^ mix(index + 1))
}

/// The seed of slice `slice` of `phase` (0: the phase run whole).
pub(crate) fn slice_seed(seed: u64, phase: &str, slice: usize) -> u64 {
    mix(phase_seed(seed, phase) ^ mix(slice as u64))
}

/// SplitMix64's finaliser (loadgen mixes each worker's seed the same way),
/// so that no two phases, slices or workers draw the same stream.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed from the clock, for a run not given `--seed`.
fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64 % 1_000_000_000)
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        duration: 30.0,
        connections: 32,
        compare: false,
        users: 100_000,
        seed: fresh_seed(),
    };
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        if flag == "--compare" {
            options.compare = true;
            continue;
        }
        let value = iter
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--duration" => options.duration = value.parse().context("--duration takes seconds")?,
            "--connections" => {
                options.connections = value.parse().context("--connections takes a number")?
            }
            "--users" => options.users = value.parse().context("--users takes a number")?,
            "--seed" => options.seed = value.parse().context("--seed takes a number")?,
            other => bail!(
                "unknown flag `{other}` (demo takes --duration S, --connections N, --users N, --seed N, --compare)"
            ),
        }
    }
    if !(options.duration >= 3.0 && options.duration <= 3600.0) {
        bail!("--duration must be 3..=3600 seconds");
    }
    if options.connections == 0 || options.connections > 1024 {
        bail!("--connections must be 1..=1024");
    }
    Ok(options)
}

/// `cargo xtask demo`
pub(crate) fn main(args: &[String]) -> Result<ExitCode> {
    let options = parse(args)?;
    let root = cargo::root();
    let target = cargo::metadata()?.target_directory;
    let out = target.join("demo");
    std::fs::create_dir_all(&out)?;

    let build_started = Instant::now();
    eprintln!("xtask: building the examples in release");
    let mut build = cargo::cargo();
    build.args(["build", "--release", "--quiet", "-p", "perfect21-examples"]);
    run::run_ok(&mut build)?;
    let build_seconds = build_started.elapsed().as_secs_f64();
    let bin = target.join("release");

    let started = Instant::now();
    let services = Services::start_without_cluster()?;
    let upstreams = ["a", "b"]
        .iter()
        .map(|name| {
            let mut command = Command::new(bin.join("upstream"));
            command.args(["--name", name]);
            Running::start(
                &format!("upstream {name}"),
                &mut command,
                &out.join(format!("upstream-{name}.log")),
                Duration::from_secs(10),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let upstream_urls: Vec<String> = upstreams
        .iter()
        .map(|u| format!("http://{}", u.addr))
        .collect();

    let modes: &[&'static str] = if options.compare {
        &["cache", "no-cache"]
    } else {
        &["cache"]
    };
    // Every mode's showcase is up before any is measured, so that
    // `--compare` can interleave them (the idle one only runs its
    // maintenance timer meanwhile).
    let showcases = modes
        .iter()
        .map(|&mode| start_showcase(mode, &options, &services, &upstream_urls, &bin, &out))
        .collect::<Result<Vec<_>>>()?;
    // `--compare` first, each showcase warmed as its own run will be: the
    // cache showcase then holds what its warmer and one warm-up loaded, as
    // in its profile phase, not what a minute of other phases left behind.
    let compare = match showcases.as_slice() {
        [cache, no_cache] => {
            for (showcase, mode) in [(cache, "cache"), (no_cache, "no-cache")] {
                warm_up(&options, showcase, mode, &bin, &out)?;
            }
            Some(compare_profiles(&options, cache, no_cache, &bin, &out)?)
        }
        _ => None,
    };
    let mut runs = Vec::new();
    for (&mode, showcase) in modes.iter().zip(&showcases) {
        runs.push(run_mode(
            mode,
            &options,
            showcase,
            &upstream_urls,
            &bin,
            &out,
        )?);
    }
    drop(showcases);
    drop(upstreams);
    drop(services);
    let wall_seconds = started.elapsed().as_secs_f64();

    let report = render::Report {
        runs,
        compare,
        connections: options.connections,
        duration: options.duration,
        seed: options.seed,
        build_seconds,
        wall_seconds,
        machine: crate::machine::describe(),
    };
    let text = report.text();
    println!("{text}");
    std::fs::write(out.join("report.txt"), &text)?;
    std::fs::write(
        out.join("report.json"),
        serde_json::to_vec_pretty(&report.json())?,
    )?;
    std::fs::write(out.join("latency.svg"), svg::latency_svg(&report))?;
    eprintln!(
        "xtask: wrote {}, report.json and latency.svg (demo {:.0} s after the build)",
        out.join("report.txt")
            .strip_prefix(&root)
            .unwrap_or(&out)
            .display(),
        wall_seconds
    );
    Ok(ExitCode::SUCCESS)
}

fn loadgen(bin: &Path, out: &Path, name: &str, url: &str, args: &[String]) -> Result<Value> {
    if signals::interrupted() {
        bail!("interrupted by a signal");
    }
    let json = out.join(format!("loadgen-{name}.json"));
    let text = out.join(format!("loadgen-{name}.txt"));
    let mut command = Command::new(bin.join("loadgen"));
    command
        .args(["--url", url, "--json"])
        .arg(&json)
        .args(args)
        .stdout(std::fs::File::create(&text)?);
    eprintln!("xtask: loadgen {name}: {}", args.join(" "));
    run::run_ok(&mut command)?;
    let text =
        std::fs::read_to_string(&json).with_context(|| format!("reading {}", json.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// Starts the showcase in `mode` and waits until it answers.
fn start_showcase(
    mode: &'static str,
    options: &Options,
    services: &Services,
    upstreams: &[String],
    bin: &Path,
    out: &Path,
) -> Result<Running> {
    let mut command = Command::new(bin.join("showcase"));
    services.export(&mut command);
    command
        .env("RUST_LOG", "warn")
        .args(["--port", "0", "--users", &options.users.to_string()])
        .args(["--upstreams", &upstreams.join(",")]);
    if mode == "cache" {
        command.args(["--warm", "20000"]);
    } else {
        command.arg("--no-cache");
    }
    let showcase = Running::start(
        &format!("showcase ({mode})"),
        &mut command,
        &out.join(format!("showcase-{mode}.log")),
        Duration::from_secs(120),
    )?;
    wait_ready(&showcase.addr)?;
    Ok(showcase)
}

/// How many measured slices each side of an interleaved comparison gets,
/// and how long each is.
const SLICES: usize = 6;
const SLICE_SECONDS: &str = "1.0";

/// loadgen's arguments for one phase (or one slice `slice` of it): its own
/// seeded stream.
fn phase_args(
    options: &Options,
    phase: &str,
    slice: usize,
    duration: &str,
    mix: &str,
) -> Vec<String> {
    let seed = slice_seed(options.seed, phase, slice);
    [
        "--duration".to_string(),
        duration.to_string(),
        "--connections".to_string(),
        options.connections.to_string(),
        "--mix".to_string(),
        mix.to_string(),
        "--users".to_string(),
        options.users.to_string(),
        "--seed".to_string(),
        seed.to_string(),
        "--quiet".to_string(),
    ]
    .into()
}

/// The mix for 3 s, not measured.
fn warm_up(
    options: &Options,
    showcase: &Running,
    mode: &str,
    bin: &Path,
    out: &Path,
) -> Result<()> {
    let url = format!("http://{}", showcase.addr);
    let args = phase_args(options, "warmup", 0, "3", MIX);
    loadgen(bin, out, &format!("warmup-{mode}"), &url, &args).map(drop)
}

/// The mix of the warm-up, the rated phase and the mix phase.
const MIX: &str = "user=80,tasks=15,report=5";

/// `--compare`'s ratio: the profile endpoint with caches over without, in
/// interleaved slices of the same request streams.
fn compare_profiles(
    options: &Options,
    cache: &Running,
    no_cache: &Running,
    bin: &Path,
    out: &Path,
) -> Result<interleave::Spread> {
    let slice = |showcase: &Running, name: &str, i: usize| {
        let url = format!("http://{}", showcase.addr);
        let args = phase_args(options, "compare", i, SLICE_SECONDS, "user=1");
        loadgen(bin, out, &format!("compare-{name}-{i}"), &url, &args)
    };
    let slices = interleave::abba(
        SLICES,
        |i| slice(no_cache, "no-cache", i),
        |i| slice(cache, "cache", i),
    )?;
    slices
        .b_over_a()
        .context("no interleaved slices of the profile endpoint")
}

fn run_mode(
    mode: &'static str,
    options: &Options,
    showcase: &Running,
    upstreams: &[String],
    bin: &Path,
    out: &Path,
) -> Result<ModeRun> {
    let url = format!("http://{}", showcase.addr);
    let base =
        |phase: &str, duration: &str, mix: &str| phase_args(options, phase, 0, duration, mix);
    // The showcase's CPU is read by loadgen at the edges of its measured
    // window, not around loadgen's start and exit.
    let cpu_pid = ["--cpu-pid".to_string(), showcase.pid().to_string()];
    let mix = MIX;
    warm_up(options, showcase, mode, bin, out)?;
    // The ceiling (/health, a handler that does nothing) and the profile
    // endpoint in interleaved slices: the share a verdict rests on is taken
    // per slice pair, with its spread.
    let ceiling_and_profile = interleave::abba(
        SLICES,
        |i| {
            let args = phase_args(options, "ceiling", i, SLICE_SECONDS, "health=1");
            loadgen(bin, out, &format!("ceiling-{mode}-{i}"), &url, &args)
        },
        |i| {
            let args = phase_args(options, "profile", i, SLICE_SECONDS, "user=1");
            loadgen(bin, out, &format!("profile-{mode}-{i}"), &url, &args)
        },
    )?;
    let ceiling = interleave::Slices::summary(&ceiling_and_profile.a);
    let profile = interleave::Slices::summary(&ceiling_and_profile.b);
    let profile_share = ceiling_and_profile.b_over_a();

    let rated_seconds = (options.duration / 5.0).max(3.0);
    let mut rated_args = base("rated", &format!("{rated_seconds:.1}"), mix);
    rated_args.extend(["--rate".to_string(), "1000".to_string()]);
    rated_args.extend(cpu_pid.iter().cloned());
    let rated = loadgen(bin, out, &format!("rated-{mode}"), &url, &rated_args)?;
    let cpu_rated_percent = target_cpu_percent(&rated)?;

    // One replica goes slow for the mix: the balancer should steer the
    // report's upstream calls away from it.
    let slow = upstreams
        .last()
        .map(|u| u.trim_start_matches("http://").to_string());
    if let Some(slow) = &slow {
        http::request(slow, "POST", &format!("/admin/delay?ms={SLOW_UPSTREAM_MS}"))?;
    }
    let before = http::get_json(&showcase.addr, "/stats")?;
    let mut mix_args = base("mix", &format!("{:.1}", options.duration), mix);
    mix_args.extend(cpu_pid.iter().cloned());
    let mix_summary = loadgen(bin, out, &format!("mix-{mode}"), &url, &mix_args)?;
    let cpu_mix_percent = target_cpu_percent(&mix_summary)?;
    let after = http::get_json(&showcase.addr, "/stats")?;
    if let Some(slow) = &slow {
        http::request(slow, "POST", "/admin/delay?ms=0")?;
    }
    let (_, metrics) = http::get(&showcase.addr, "/metrics")?;
    let metrics_sections = metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# perfect21_"))
        .map(str::to_string)
        .collect();
    let peak_rss = child::peak_rss(showcase.pid()).unwrap_or(0);
    Ok(ModeRun {
        mode,
        ceiling,
        profile,
        profile_share,
        rated,
        mix: mix_summary,
        cpu_rated_percent,
        cpu_mix_percent,
        peak_rss,
        before,
        after,
        metrics_sections,
    })
}

/// The showcase's CPU during a loadgen window, % of one core.
fn target_cpu_percent(summary: &Value) -> Result<f64> {
    summary
        .pointer("/target_cpu/percent_of_core")
        .and_then(Value::as_f64)
        .context("loadgen reported no CPU for --cpu-pid")
}

fn wait_ready(addr: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((200, _)) = http::get(addr, "/health") {
            return Ok(());
        }
        if signals::interrupted() {
            bail!("interrupted by a signal");
        }
        if Instant::now() > deadline {
            bail!("the showcase at {addr} did not answer /health");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A JSON number at `path` (`a.b.c`), 0 when absent.
pub(crate) fn num(value: &Value, path: &str) -> f64 {
    path.split('.')
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
}
