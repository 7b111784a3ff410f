//! The workspace as cargo sees it: its root, its target directory, and the
//! `[package.metadata.perfect21]` tables through which crates ask xtask for
//! Miri, loom and extra measurements.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use serde::Deserialize;

/// The workspace root (the directory above `xtask/`): from the
/// `CARGO_MANIFEST_DIR` that `cargo run` (the `cargo xtask` alias) gives
/// the process, else the one it was compiled in. (Only the compile-time
/// path once made a binary built in another checkout that shares this
/// target directory drive the other checkout — or a deleted one.)
pub(crate) fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A `cargo` command run from the workspace root, with the toolchain cargo
/// that started xtask.
pub(crate) fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    command
}

/// `cargo +nightly …` through rustup (for Miri).
pub(crate) fn cargo_nightly() -> Command {
    let mut command = Command::new("cargo");
    command
        .arg("+nightly")
        .current_dir(root())
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO");
    command
}

/// What `cargo metadata --no-deps` says about the workspace.
#[derive(Debug, Deserialize)]
pub(crate) struct Metadata {
    pub(crate) target_directory: PathBuf,
    pub(crate) packages: Vec<Package>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Package {
    pub(crate) name: String,
    pub(crate) targets: Vec<Target>,
    #[serde(default)]
    pub(crate) metadata: Option<PackageMetadata>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) kind: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PackageMetadata {
    #[serde(default)]
    pub(crate) perfect21: Perfect21Metadata,
}

/// `[package.metadata.perfect21]`
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Perfect21Metadata {
    /// Arguments after `cargo +nightly miri test -p NAME`, scoping Miri to
    /// the modules with unsafe code (e.g. `["--lib", "stack::"]`).
    #[serde(default)]
    pub(crate) miri: Option<Vec<String>>,
    /// Arguments after `cargo test -p NAME --release` built with
    /// `--cfg perfect21_loom` (e.g. `["--test", "loom"]`).
    #[serde(default)]
    pub(crate) loom: Option<Vec<String>>,
    /// Measurements criterion does not make, run by `cargo xtask bench`.
    #[serde(default)]
    pub(crate) measure: Vec<Measure>,
}

/// One extra measurement: `cargo ARGS…`, for the bench section `bench`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Measure {
    /// The bench section its results belong to (a file stem in `benches/benches`).
    pub(crate) bench: String,
    /// Arguments to `cargo`.
    pub(crate) args: Vec<String>,
    /// Paths (relative to the workspace root) it needs; when one is missing
    /// the measurement is skipped with a message.
    #[serde(default)]
    pub(crate) requires: Vec<String>,
}

impl Package {
    pub(crate) fn perfect21(&self) -> Option<&Perfect21Metadata> {
        self.metadata.as_ref().map(|m| &m.perfect21)
    }
}

pub(crate) fn metadata() -> Result<Metadata> {
    let output = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("running cargo metadata")?;
    anyhow::ensure!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).context("reading cargo metadata")
}
