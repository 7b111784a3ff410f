//! Finding the server binaries installed on the machine.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Looks `name` up on `PATH`.
pub(crate) fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A binary from `PATH`, or an error naming the Debian package that has it.
pub(crate) fn require(binary: &'static str, package: &'static str) -> Result<PathBuf> {
    on_path(binary).ok_or(Error::MissingBinary {
        binary,
        package,
        searched: String::new(),
    })
}

/// The directory holding Postgres's server binaries (`initdb`, `postgres`).
///
/// `initdb` on `PATH` wins (its symlink is followed, so `postgres` is taken
/// from the same installation); otherwise the newest
/// `/usr/lib/postgresql/<version>/bin`, where Debian installs them.
pub(crate) fn postgres_bindir() -> Result<PathBuf> {
    if let Some(initdb) = on_path("initdb") {
        let real = initdb.canonicalize().unwrap_or(initdb);
        if let Some(dir) = real.parent()
            && is_executable(&dir.join("postgres"))
        {
            return Ok(dir.to_path_buf());
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            is_executable(&bin.join("initdb")).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or(Error::MissingBinary {
            binary: "initdb",
            package: "postgresql",
            searched: " or under /usr/lib/postgresql/*/bin".to_string(),
        })
}

/// `psql`: beside the server binaries, else on `PATH`.
pub(crate) fn psql(bindir: &Path) -> Result<PathBuf> {
    let beside = bindir.join("psql");
    if is_executable(&beside) {
        return Ok(beside);
    }
    require("psql", "postgresql-client")
}
