//! Private scratch directories, and the sweep that removes those whose
//! owner died without cleaning up.
//!
//! Each directory is `$TMPDIR/perfect21-<kind>-<pid>-<n>` and holds a file
//! `owner` (the pid of the process that made it) and, once a server runs in
//! it, `server.pid` (`<pid> <signal>`: how to stop it). A process killed by a
//! signal runs no `Drop`; the next harness to start anything finds its
//! directory by the dead owner pid, stops the server and removes the
//! directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::Result;
use crate::error::IoContext;
use crate::process;

/// The name prefix of every scratch directory under the system temp dir.
pub const SCRATCH_PREFIX: &str = "perfect21-";

const OWNER_FILE: &str = "owner";
const SERVER_PID_FILE: &str = "server.pid";

/// A directory that is removed when dropped.
#[derive(Debug)]
pub(crate) struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates a fresh, empty scratch directory for a server of `kind`.
    pub(crate) fn new(kind: &str) -> Result<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        sweep_orphans();
        let pid = std::process::id();
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("{SCRATCH_PREFIX}{kind}-{pid}-{n}"));
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    std::fs::write(path.join(OWNER_FILE), pid.to_string())
                        .context(|| format!("writing {}", path.display()))?;
                    return Ok(Self { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e).context(|| format!("creating {}", path.display())),
            }
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Records the server running in this directory, for the orphan sweep.
    pub(crate) fn record_server(&self, pid: u32, stop_with: Signal) {
        let _ = std::fs::write(
            self.path.join(SERVER_PID_FILE),
            format!("{pid} {}", stop_with as i32),
        );
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Stops the servers and removes the scratch directories of harness
/// processes that no longer exist. Returns how many directories it removed.
///
/// Every `start` calls this first; `cargo xtask` calls it after each step, so
/// a test binary killed by a signal leaves nothing behind for long.
pub fn sweep_orphans() -> usize {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(SCRATCH_PREFIX) {
            continue;
        }
        let dir = entry.path();
        let Some(owner) = read_u32(&dir.join(OWNER_FILE)) else {
            continue;
        };
        if process::exists(owner) {
            continue;
        }
        stop_recorded_server(&dir);
        if std::fs::remove_dir_all(&dir).is_ok() {
            removed += 1;
        }
    }
    removed
}

fn stop_recorded_server(dir: &Path) {
    let Ok(text) = std::fs::read_to_string(dir.join(SERVER_PID_FILE)) else {
        return;
    };
    let mut parts = text.split_whitespace();
    let (Some(pid), Some(signal)) = (
        parts.next().and_then(|p| p.parse::<u32>().ok()),
        parts
            .next()
            .and_then(|s| s.parse::<i32>().ok())
            .and_then(|s| Signal::try_from(s).ok()),
    ) else {
        return;
    };
    if !process::exists(pid) {
        return;
    }
    process::send(pid, signal);
    let deadline = Instant::now() + Duration::from_secs(5);
    while process::exists(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if process::exists(pid) {
        process::send(pid, Signal::SIGKILL);
    }
}

fn read_u32(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}
