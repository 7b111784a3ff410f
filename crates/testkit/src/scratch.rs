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

    /// Records the server running in this directory, for the orphan sweep:
    /// its pid, how to stop it, and its identity (start time and command
    /// name), so that a later process that reuses the pid is never
    /// signalled.
    pub(crate) fn record_server(&self, pid: u32, stop_with: Signal) {
        let Some(identity) = process::Identity::of(pid) else {
            return;
        };
        let _ = std::fs::write(
            self.path.join(SERVER_PID_FILE),
            format!(
                "{pid} {} {} {}",
                stop_with as i32, identity.start_ticks, identity.name
            ),
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
    let Some((pid, signal, recorded)) = parse_server_record(&text) else {
        return;
    };
    // Only the process that was recorded: a pid reused since (after a
    // reboot, with a temporary directory that survives it) belongs to
    // someone else, and this may run as root.
    if process::Identity::of(pid).as_ref() != Some(&recorded) {
        return;
    }
    process::send(pid, signal);
    let deadline = Instant::now() + Duration::from_secs(5);
    while process::exists(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if process::Identity::of(pid).as_ref() == Some(&recorded) {
        process::send(pid, Signal::SIGKILL);
    }
}

/// `<pid> <signal> <start ticks> <command name>` as [`ScratchDir::record_server`]
/// writes it (the name last: it may hold spaces).
fn parse_server_record(text: &str) -> Option<(u32, Signal, process::Identity)> {
    let mut parts = text.trim().splitn(4, ' ');
    let pid = parts.next()?.parse().ok()?;
    let signal = Signal::try_from(parts.next()?.parse::<i32>().ok()?).ok()?;
    let start_ticks = parts.next()?.parse().ok()?;
    let name = parts.next()?.to_owned();
    Some((pid, signal, process::Identity { start_ticks, name }))
}

fn read_u32(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An orphan directory (its owner pid is dead) recording `record` as
    /// its server.
    fn orphan_dir(tag: &str, record: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "{SCRATCH_PREFIX}sweep-test-{tag}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        // No process has pid u32::MAX: the owner is gone.
        std::fs::write(dir.join(OWNER_FILE), u32::MAX.to_string()).unwrap();
        std::fs::write(dir.join(SERVER_PID_FILE), record).unwrap();
        dir
    }

    #[test]
    fn the_sweep_signals_only_the_process_it_recorded() {
        let mut child = std::process::Command::new("sleep")
            .arg("600")
            .spawn()
            .unwrap();
        let pid = child.id();
        let real = process::Identity::of(pid).unwrap();
        // The same pid, but another process's start time: a reused pid.
        let reused = format!("{pid} 9 {} {}", real.start_ticks + 1, real.name);
        let dir = orphan_dir("reused", &reused);
        sweep_orphans();
        assert!(!dir.exists(), "the orphan directory is removed");
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "a process that only shares the recorded pid is left alone"
        );
        // The recorded process itself is stopped.
        let dir = orphan_dir(
            "recorded",
            &format!("{pid} 9 {} {}", real.start_ticks, real.name),
        );
        sweep_orphans();
        assert!(!dir.exists());
        let status = child.wait().unwrap();
        assert!(!status.success(), "killed by the sweep: {status}");
    }

    #[test]
    fn server_records_parse_with_spaces_in_the_name() {
        let (pid, signal, identity) = parse_server_record("42 3 1234 my server\n").unwrap();
        assert_eq!((pid, signal), (42, Signal::SIGQUIT));
        assert_eq!(identity.start_ticks, 1234);
        assert_eq!(identity.name, "my server");
        // The old two-field form has no identity: never signalled.
        assert!(parse_server_record("42 9").is_none());
    }
}
