//! `cargo xtask fuzz [TARGET] [--seconds N]`: the cargo-fuzz targets in
//! `fuzz/` (their own workspace, built with nightly), and the brief run of
//! each that `cargo xtask test` makes.
//!
//! Each run first replays the committed corpus (`fuzz/corpus/TARGET`, read
//! only: every input there once found something or covers a path), then
//! fuzzes for the given [`Budget`]. New inputs of `cargo xtask fuzz` go to
//! `target/fuzz-corpus/TARGET` (kept between runs, never committed); the
//! test step's go to a scratch directory emptied first. A finding is
//! written to `fuzz/artifacts/TARGET/` and fails the run.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};

use crate::cargo;
use crate::run;

/// How much each target fuzzes after replaying its corpus.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Budget {
    /// `cargo xtask fuzz`: for this long, from the inputs earlier runs
    /// found (kept in `target/fuzz-corpus`).
    Seconds(u64),
    /// `cargo xtask test`: this many inputs from a fixed seed and a fresh
    /// scratch corpus, so a CI run mostly repeats the one made before
    /// submitting rather than exploring further by time. Not exactly:
    /// code that hashes with a random seed (`HashMap`) steers the coverage
    /// feedback, so a run can still reach an input no earlier run did —
    /// which is a finding like any other.
    Reproducible {
        /// Inputs run, the committed corpus's included.
        runs: u64,
    },
}

/// What `cargo xtask test` runs of each target.
pub(crate) const TEST_BUDGET: Budget = Budget::Reproducible { runs: 40_000 };

/// `cargo xtask fuzz [TARGET] [--seconds N]` (default: every target, 60 s each).
pub(crate) fn main(args: &[String]) -> Result<ExitCode> {
    let mut seconds = 60;
    let mut wanted = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().context("--seconds needs a number")?;
                seconds = value
                    .parse()
                    .with_context(|| format!("--seconds {value}: not a whole number of seconds"))?;
            }
            flag if flag.starts_with("--") => anyhow::bail!("unknown flag `{flag}` for fuzz"),
            target => wanted = Some(target.to_string()),
        }
    }
    let all = targets()?;
    let chosen: Vec<String> = match wanted {
        Some(target) => {
            anyhow::ensure!(
                all.contains(&target),
                "no fuzz target `{target}`; the targets are: {}",
                all.join(", ")
            );
            vec![target]
        }
        None => all,
    };
    for command in commands(&chosen, Budget::Seconds(seconds))? {
        let mut command = command;
        eprintln!("xtask: $ {}", run::describe(&command));
        run::run_ok(&mut command)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The targets: the `[[bin]]` names of `fuzz/Cargo.toml`.
pub(crate) fn targets() -> Result<Vec<String>> {
    let manifest = fuzz_dir().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let mut targets = Vec::new();
    let mut in_bin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(name) = line.strip_prefix("name = ") {
            targets.push(name.trim_matches('"').to_string());
        }
    }
    Ok(targets)
}

/// Installs cargo-fuzz when missing, then: one build of every target, and
/// for each target a run that replays its corpus and fuzzes for `budget`.
pub(crate) fn commands(targets: &[String], budget: Budget) -> Result<Vec<Command>> {
    ensure_cargo_fuzz()?;
    let mut build = fuzz();
    build.arg("build");
    let mut commands = vec![build];
    for target in targets {
        let scratch = match budget {
            Budget::Seconds(_) => cargo::root().join("target").join("fuzz-corpus"),
            Budget::Reproducible { .. } => cargo::root().join("target").join("fuzz-test-corpus"),
        }
        .join(target);
        if let Budget::Reproducible { .. } = budget
            && scratch.exists()
        {
            std::fs::remove_dir_all(&scratch)
                .with_context(|| format!("emptying {}", scratch.display()))?;
        }
        std::fs::create_dir_all(&scratch)
            .with_context(|| format!("creating {}", scratch.display()))?;
        let committed = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&committed)
            .with_context(|| format!("creating {}", committed.display()))?;
        let mut run = fuzz();
        run.args(["run", target])
            .arg(&scratch)
            .arg(&committed)
            .arg("--");
        match budget {
            Budget::Seconds(seconds) => run.arg(format!("-max_total_time={seconds}")),
            // The time cap only guards against a machine far slower than
            // this one; the runs end it.
            Budget::Reproducible { runs } => run.args([
                "-seed=1".to_owned(),
                format!("-runs={runs}"),
                "-max_total_time=300".to_owned(),
            ]),
        };
        run
            // Bounded memory and time per input (an input that takes
            // longer than 10 s is a hang, reported as a finding; libFuzzer's
            // default of 1200 s outlasts every run), and no leak check:
            // targets that catch the panics they provoke leave what
            // unwinding leaked.
            .args(["-rss_limit_mb=4096", "-timeout=10", "-detect_leaks=0"]);
        commands.push(run);
    }
    Ok(commands)
}

fn fuzz_dir() -> PathBuf {
    cargo::root().join("fuzz")
}

/// `cargo +nightly fuzz …` from the workspace root.
fn fuzz() -> Command {
    let mut command = cargo::cargo_nightly();
    command.arg("fuzz");
    command
}

fn ensure_cargo_fuzz() -> Result<()> {
    let probe = fuzz().arg("--version").output();
    if probe.is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    eprintln!("xtask: installing cargo-fuzz: cargo install cargo-fuzz --locked");
    run::run_ok(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
        .context("cargo-fuzz is needed and could not be installed from crates.io")
}
