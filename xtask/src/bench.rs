//! `cargo xtask bench [--quick] [NAME]`: measure, then rewrite the tables.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Result, bail};

use crate::cargo::{self, Measure};
use crate::services::Services;
use crate::{machine, report, run};

const BENCH_PACKAGE: &str = "perfect21-benches";

/// `cargo xtask bench [--quick] [NAME]`
pub(crate) fn main(args: &[String]) -> Result<ExitCode> {
    let (flags, positional) = crate::parse_flags(args, &["--quick"])?;
    let quick = flags.contains(&"--quick");
    if positional.len() > 1 {
        bail!("`cargo xtask bench` takes at most one bench name");
    }
    let metadata = cargo::metadata()?;
    let Some(package) = metadata.packages.iter().find(|p| p.name == BENCH_PACKAGE) else {
        bail!("the workspace has no package {BENCH_PACKAGE}");
    };
    let all: Vec<String> = package
        .targets
        .iter()
        .filter(|t| t.kind.iter().any(|k| k == "bench"))
        .map(|t| t.name.clone())
        .collect();
    let selected: Vec<String> = match positional.first() {
        Some(name) if all.iter().any(|b| b == name) => vec![(*name).to_string()],
        Some(name) => bail!(
            "no bench `{name}` in benches/benches (there are: {})",
            all.join(", ")
        ),
        None => all.clone(),
    };
    let measures: Vec<Measure> = package
        .perfect21()
        .map(|m| {
            m.measure
                .iter()
                .filter(|m| selected.contains(&m.bench))
                .cloned()
                .collect()
        })
        .unwrap_or_default();

    let services = Services::start()?;
    // Results written from now on are this run's; a little slack for
    // file-system timestamp granularity.
    let since = SystemTime::now() - Duration::from_secs(2);

    let mut criterion = cargo::cargo();
    criterion.args(["bench", "-p", BENCH_PACKAGE]);
    match positional.first() {
        Some(name) => criterion.args(["--bench", name]),
        None => criterion.arg("--benches"),
    };
    if quick {
        criterion.args(["--", "--quick"]);
    }
    services.export(&mut criterion);
    eprintln!("xtask: $ {}", run::describe(&criterion));
    run::run_ok(&mut criterion)?;

    for measure in &measures {
        let root = cargo::root();
        if let Some(missing) = measure.requires.iter().find(|p| !root.join(p).exists()) {
            eprintln!(
                "xtask: skipping `cargo {}`: {missing} is not on this machine",
                measure.args.join(" ")
            );
            continue;
        }
        let mut command = cargo::cargo();
        command.args(&measure.args);
        services.export(&mut command);
        eprintln!("xtask: $ {}", run::describe(&command));
        run::run_ok(&mut command)?;
    }
    drop(services);

    let command = format!(
        "cargo xtask bench{}{}",
        if quick { " --quick" } else { "" },
        positional
            .first()
            .map(|n| format!(" {n}"))
            .unwrap_or_default()
    );
    let context = format!("Measured on {} with `{command}`.", machine::describe());
    let written = report::write(
        &cargo::root(),
        &metadata.target_directory,
        &selected,
        since,
        &context,
    )?;
    eprintln!(
        "xtask: docs/benchmarks.md updated for: {}",
        written.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    /// Every criterion file in `benches/benches/` needs its own `[[bench]]`
    /// entry with `harness = false`: without it cargo discovers the file on
    /// its own with libtest's harness, which runs zero benchmarks — in
    /// `cargo xtask bench` and in `cargo xtask test` — and says "ok".
    #[test]
    fn every_bench_file_is_declared_without_the_libtest_harness() {
        let benches = crate::cargo::root().join("benches");
        let manifest = std::fs::read_to_string(benches.join("Cargo.toml")).unwrap();
        let manifest = manifest.replace("\r\n", "\n");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(benches.join("benches")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let declared = format!("[[bench]]\nname = \"{stem}\"\nharness = false\n");
            if !manifest.contains(&declared) {
                missing.push(stem);
            }
        }
        assert!(
            missing.is_empty(),
            "benches/Cargo.toml lacks `[[bench]] name = … harness = false` for: {missing:?}"
        );
    }
}
