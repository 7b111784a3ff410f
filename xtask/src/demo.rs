//! `cargo xtask demo`: the main job.
//!
//! Until the showcase service exists (issue 11), the demo starts the
//! services and runs the smoke program of `examples/`, which prints what it
//! checked against each real server.

use std::process::ExitCode;

use anyhow::Result;

use crate::services::Services;
use crate::{cargo, run};

/// `cargo xtask demo`
pub(crate) fn main(args: &[String]) -> Result<ExitCode> {
    crate::parse_flags(args, &[])?;
    let services = Services::start()?;
    let mut smoke = cargo::cargo();
    smoke.args([
        "run",
        "--quiet",
        "-p",
        "perfect21-examples",
        "--bin",
        "smoke",
    ]);
    services.export(&mut smoke);
    let status = run::run(&mut smoke)?;
    drop(services);
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
