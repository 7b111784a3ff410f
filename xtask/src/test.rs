//! `cargo xtask test`: the one test command, exactly what CI runs.

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::cargo::{self, Metadata};
use crate::run;
use crate::services::Services;

/// How one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pass,
    Fail,
    NotRun,
}

/// The whole run's budget: CI stops at 90 minutes; a cold run takes about
/// 10 and a warm one 3.
const RUN_BUDGET: Duration = Duration::from_secs(60 * 60);

/// A step: a name, the commands it runs in order, and how long they may
/// take together (cold: compiling included).
struct Step {
    name: &'static str,
    budget: Duration,
    commands: Vec<Command>,
    /// Shown when the step has no command (e.g. no crate needs Miri yet).
    empty_note: &'static str,
}

/// `cargo xtask test [--keep-going]`
pub(crate) fn main(args: &[String]) -> Result<ExitCode> {
    let (flags, positional) = crate::parse_flags(args, &["--keep-going"])?;
    anyhow::ensure!(
        positional.is_empty(),
        "`cargo xtask test` takes no arguments besides --keep-going"
    );
    let keep_going = flags.contains(&"--keep-going");

    let metadata = cargo::metadata()?;
    let started = Instant::now();
    let services = Services::start()?;
    for line in services.lines() {
        eprintln!("xtask: {line}");
    }
    let steps = steps(&services, &metadata)?;

    let mut summary = Vec::new();
    let mut failed = false;
    for mut step in steps {
        let out_of_time = started.elapsed() >= RUN_BUDGET;
        if (failed && !keep_going) || out_of_time || crate::signals::interrupted() {
            summary.push((step.name, Outcome::NotRun, 0.0));
            continue;
        }
        eprintln!("\nxtask: ── {} ──", step.name);
        if step.commands.is_empty() {
            eprintln!("xtask: {}", step.empty_note);
        }
        let step_started = Instant::now();
        let deadline = (step_started + step.budget).min(started + RUN_BUDGET);
        let mut outcome = Outcome::Pass;
        for command in &mut step.commands {
            eprintln!("xtask: $ {}", run::describe(command));
            let result = match run::run_until(command, Some(deadline)) {
                Ok(status) if status.success() => Ok(()),
                Ok(status) => Err(anyhow::anyhow!(
                    "{} failed ({status})",
                    run::describe(command)
                )),
                Err(e) if e.is::<run::Overran>() => Err(anyhow::anyhow!(
                    "the {} step ran out of its time ({:.0} s of a {:.0} s budget, the run {:.0} s of {:.0} s): stopped `{}`",
                    step.name,
                    step_started.elapsed().as_secs_f64(),
                    step.budget.as_secs_f64(),
                    started.elapsed().as_secs_f64(),
                    RUN_BUDGET.as_secs_f64(),
                    run::describe(command)
                )),
                Err(e) => Err(e),
            };
            let overran = result.is_err() && Instant::now() >= deadline;
            perfect21_testkit::sweep_orphans();
            if let Err(error) = result {
                eprintln!("xtask: {error:#}");
                outcome = Outcome::Fail;
                // Past the deadline the step's other commands would only be
                // started to be stopped.
                if crate::signals::interrupted() || overran {
                    break;
                }
            }
        }
        failed |= outcome == Outcome::Fail;
        summary.push((step.name, outcome, step_started.elapsed().as_secs_f64()));
    }
    drop(services);

    let line = summary
        .iter()
        .map(|(name, outcome, secs)| match outcome {
            Outcome::Pass => format!("{name} pass {secs:.1}s"),
            Outcome::Fail => format!("{name} FAIL {secs:.1}s"),
            Outcome::NotRun => format!("{name} not run"),
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let out_of_time = summary
        .iter()
        .any(|(_, outcome, _)| *outcome == Outcome::NotRun)
        && started.elapsed() >= RUN_BUDGET;
    let verdict = if failed || out_of_time || crate::signals::interrupted() {
        "FAILED"
    } else {
        "ok"
    };
    eprintln!();
    println!(
        "xtask test {verdict}: {line} — total {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(if verdict == "ok" {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn steps(services: &Services, metadata: &Metadata) -> Result<Vec<Step>> {
    let with_services = |mut command: Command| {
        services.export(&mut command);
        command
    };
    let mut fmt = cargo::cargo();
    fmt.args(["fmt", "--all", "--check"]);
    let mut clippy = cargo::cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]);
    let mut tests = cargo::cargo();
    tests.args(["test", "--workspace", "--all-features"]);
    // Every criterion bench once, in test mode. Same features as the test
    // step, so nothing is rebuilt.
    let mut benches = cargo::cargo();
    benches.args(["test", "--workspace", "--all-features", "--benches"]);

    Ok(vec![
        Step {
            name: "fmt",
            budget: Duration::from_secs(2 * 60),
            commands: vec![fmt],
            empty_note: "",
        },
        Step {
            name: "clippy",
            budget: Duration::from_secs(25 * 60),
            commands: vec![clippy],
            empty_note: "",
        },
        Step {
            name: "test",
            budget: Duration::from_secs(25 * 60),
            commands: vec![with_services(tests)],
            empty_note: "",
        },
        Step {
            name: "examples",
            budget: Duration::from_secs(10 * 60),
            commands: example_commands(metadata)
                .into_iter()
                .map(with_services)
                .collect(),
            empty_note: "no package has an example (crates/*/examples/*.rs)",
        },
        Step {
            name: "benches",
            budget: Duration::from_secs(15 * 60),
            commands: vec![with_services(benches)],
            empty_note: "",
        },
        Step {
            name: "miri",
            budget: Duration::from_secs(20 * 60),
            commands: miri_commands(metadata)?,
            empty_note: "no crate asks for Miri ([package.metadata.perfect21] miri = [...])",
        },
        Step {
            name: "loom",
            budget: Duration::from_secs(15 * 60),
            commands: loom_commands(metadata),
            empty_note: "no crate asks for loom ([package.metadata.perfect21] loom = [...])",
        },
        Step {
            name: "fuzz",
            budget: Duration::from_secs(20 * 60),
            commands: crate::fuzz::commands(&crate::fuzz::targets()?, crate::fuzz::TEST_BUDGET)?,
            empty_note: "no fuzz target in fuzz/Cargo.toml",
        },
    ])
}

/// Every example of every package (`crates/*/examples/*.rs`) must build and
/// finish successfully: they assert what they print. One `cargo build
/// --workspace --all-features --examples` (the test step's features, so
/// nothing is rebuilt — `cargo run -p` would resolve each package's features
/// anew and rebuild), then each binary from `target/debug/examples/`.
fn example_commands(metadata: &Metadata) -> Vec<Command> {
    let names: Vec<&str> = metadata
        .packages
        .iter()
        .flat_map(|package| &package.targets)
        .filter(|target| target.kind.iter().any(|kind| kind == "example"))
        .map(|target| target.name.as_str())
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    let mut build = cargo::cargo();
    build.args([
        "build",
        "--quiet",
        "--workspace",
        "--all-features",
        "--examples",
    ]);
    let directory = metadata.target_directory.join("debug").join("examples");
    std::iter::once(build)
        .chain(names.into_iter().map(|name| {
            let mut command = Command::new(directory.join(name));
            command.current_dir(cargo::root());
            command
        }))
        .collect()
}

/// `cargo +nightly miri test -p NAME ARGS…` for each crate that asks.
fn miri_commands(metadata: &Metadata) -> Result<Vec<Command>> {
    let wanted: Vec<_> = metadata
        .packages
        .iter()
        .filter_map(|p| Some((p.name.clone(), p.perfect21()?.miri.clone()?)))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    ensure_miri()?;
    Ok(wanted
        .into_iter()
        .map(|(name, args)| {
            let mut command = cargo::cargo_nightly();
            command
                .args(["miri", "test", "-p", &name])
                .args(args)
                .env("MIRIFLAGS", "-Zmiri-strict-provenance");
            command
        })
        .collect())
}

/// Installs Miri on the nightly toolchain when it is missing.
fn ensure_miri() -> Result<()> {
    let probe = cargo::cargo_nightly().args(["miri", "--version"]).output();
    if probe.is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    eprintln!("xtask: installing Miri: rustup component add --toolchain nightly miri rust-src");
    run::run_ok(Command::new("rustup").args([
        "component",
        "add",
        "--toolchain",
        "nightly",
        "miri",
        "rust-src",
    ]))
    .context("Miri is needed and could not be installed (is the nightly toolchain installed?)")
}

/// `cargo test -p NAME --release ARGS…` under `--cfg perfect21_loom`, in
/// its own target directory so the normal build is not invalidated.
fn loom_commands(metadata: &Metadata) -> Vec<Command> {
    metadata
        .packages
        .iter()
        .filter_map(|p| Some((p.name.clone(), p.perfect21()?.loom.clone()?)))
        .map(|(name, args)| {
            let mut command = cargo::cargo();
            command
                .args(["test", "-p", &name, "--release"])
                .args(args)
                .env("RUSTFLAGS", "--cfg perfect21_loom")
                .env("LOOM_MAX_PREEMPTIONS", "2")
                .env("CARGO_TARGET_DIR", metadata.target_directory.join("loom"));
            command
        })
        .collect()
}
