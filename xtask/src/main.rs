//! `cargo xtask`: the project's one entry point for chores.
//!
//! * `cargo xtask demo` — start the services and run the showcase (the main job).
//! * `cargo xtask test [--keep-going]` — fmt, clippy, every test against real
//!   servers, every bench once, Miri and loom where crates ask for them,
//!   each fuzz target briefly after replaying its corpus.
//! * `cargo xtask services` — start Redis, a Redis Cluster and Postgres, print
//!   their URLs, remove them on Ctrl-C / SIGTERM.
//! * `cargo xtask bench [--quick] [NAME]` — run the criterion benches and the
//!   other measurements, regenerate `docs/benchmarks.md`.
//! * `cargo xtask fuzz [TARGET] [--seconds N]` — the cargo-fuzz targets of
//!   `fuzz/`, each replaying its corpus then fuzzing N seconds (nightly).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod cargo;
mod demo;
mod fuzz;
mod machine;
mod report;
mod run;
mod services;
mod signals;
mod test;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  demo [--duration S] [--compare]  start the services, run the showcase under load, print the report (target/demo/)
  test [--keep-going]           fmt, clippy, tests against real servers, benches once, Miri, loom, fuzz (briefly)
  services                      start Redis, a Redis Cluster and Postgres; print their URLs; stop on Ctrl-C
  bench [--quick] [NAME]        run the benches (all, or benches/benches/NAME.rs), rewrite docs/benchmarks.md
  fuzz [TARGET] [--seconds N]   replay each fuzz target's corpus, then fuzz it N seconds (default 60; nightly)

Where REDIS_URL, REDIS_CLUSTER_URLS or DATABASE_URL is set, that server is used instead of starting one.";

fn main() -> ExitCode {
    signals::install();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "test" => test::main(rest),
        "services" => services::main(rest),
        "bench" => bench::main(rest),
        "demo" => demo::main(rest),
        "fuzz" => fuzz::main(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => {
            eprintln!("unknown command `{other}`\n\n{USAGE}");
            Ok(ExitCode::from(2))
        }
    };
    // Whatever happened, no harness directory of ours outlives us.
    perfect21_testkit::sweep_orphans();
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Splits `args` into the flags this command knows and positional arguments;
/// an unknown flag is an error that names it.
fn parse_flags<'a>(
    args: &'a [String],
    known: &[&str],
) -> anyhow::Result<(Vec<&'a str>, Vec<&'a str>)> {
    let mut flags = Vec::new();
    let mut positional = Vec::new();
    for arg in args {
        if arg.starts_with("--") {
            anyhow::ensure!(
                known.contains(&arg.as_str()),
                "unknown flag `{arg}`\n\n{USAGE}"
            );
            flags.push(arg.as_str());
        } else {
            positional.push(arg.as_str());
        }
    }
    Ok((flags, positional))
}
