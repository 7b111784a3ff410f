//! Measurements criterion does not make (hit ratios, simulation percentiles,
//! idle CPU, bytes per entry, external ceilings) are written as JSON arrays of
//! [`Record`]s under `<target>/perfect21-results/`, where
//! `cargo xtask bench` reads them.

use std::path::PathBuf;

use serde::Serialize;

/// One measured value — the schema `cargo xtask bench` renders.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// The bench section: a file stem in `benches/benches` (e.g. `lru`).
    pub bench: String,
    /// What was measured, e.g. `OLTP capacity=1000 cache=lru`.
    pub case: String,
    /// The quantity, e.g. `hit_ratio`.
    pub metric: String,
    /// Its value.
    pub value: f64,
    /// Its unit, e.g. `%`, `ns`, `bytes`.
    pub unit: String,
}

impl Record {
    /// A record.
    pub fn new(bench: &str, case: impl Into<String>, metric: &str, value: f64, unit: &str) -> Self {
        Self {
            bench: bench.into(),
            case: case.into(),
            metric: metric.into(),
            value,
            unit: unit.into(),
        }
    }
}

/// The results directory: `$CARGO_TARGET_DIR` (or the workspace's `target/`)
/// joined with `perfect21-results`.
pub fn dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("perfect21-results")
}

/// Writes `records` to `<dir>/<name>.json`, replacing an earlier file of
/// that name; returns the path.
pub fn write(name: &str, records: &[Record]) -> std::io::Result<PathBuf> {
    let dir = dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.json"));
    let json = serde_json::to_vec_pretty(records).map_err(std::io::Error::other)?;
    std::fs::write(&path, json)?;
    Ok(path)
}
