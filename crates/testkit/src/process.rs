//! Signals, bounded waits and log tails for server processes.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Sends `signal` to `pid`; a process that is already gone is not an error.
pub(crate) fn send(pid: u32, signal: Signal) {
    if let Ok(raw) = i32::try_from(pid) {
        let _ = kill(Pid::from_raw(raw), signal);
    }
}

/// Whether a live process has this pid. A zombie (exited, not yet reaped
/// by whoever inherited it) does not count: it holds no port and no files.
pub fn exists(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name: `pid (comm) S …`.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// What tells one process from a later one that reuses its pid: its start
/// time (clock ticks after boot, `/proc/PID/stat` field 22) and its command
/// name (field 2, the executable's name as the kernel keeps it). Both come
/// from `/proc/PID/stat`, which anyone may read — unlike `/proc/PID/exe`,
/// which needs ptrace rights over a server run as another user (Postgres,
/// as `postgres`, started by root without `CAP_SYS_PTRACE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) start_ticks: u64,
    pub(crate) name: String,
}

impl Identity {
    /// The identity of the live process `pid`.
    pub(crate) fn of(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        Some(Self {
            start_ticks: start_ticks(&stat)?,
            name: command_name(&stat)?.to_owned(),
        })
    }
}

/// Field 2 of a `/proc/PID/stat` line: the command name, in parentheses.
fn command_name(stat: &str) -> Option<&str> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    stat.get(open + 1..close)
}

/// Field 22 (`starttime`) of a `/proc/PID/stat` line.
fn start_ticks(stat: &str) -> Option<u64> {
    // Fields after the command name (which may hold spaces and `)`) start
    // at field 3, the state; starttime is the 20th of them.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Waits up to `timeout` for the child to exit; true when it did.
pub(crate) fn wait_exit(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() >= deadline => return false,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Stops a child: `first` signal, then SIGKILL if it is still there after
/// `grace`. Always reaps it, so no zombie is left.
pub(crate) fn stop_child(child: &mut Child, first: Signal, grace: Duration) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    send(child.id(), first);
    if !wait_exit(child, grace) {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Polls `ready` until it returns true, the child exits or `timeout` passes.
/// Returns why it gave up.
pub(crate) fn wait_ready(
    child: &mut Child,
    timeout: Duration,
    mut ready: impl FnMut() -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the process exited with {status}"));
        }
        if Instant::now() >= deadline {
            return Err(format!("not ready after {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The last `lines` lines of a log file (for error messages).
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    #[test]
    fn start_time_is_field_22_whatever_the_command_name() {
        let stat = "77 (a (b) c) S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100";
        assert_eq!(start_ticks(stat), Some(987_654));
        assert_eq!(command_name(stat), Some("a (b) c"));
        assert_eq!(start_ticks("77 (x) S 1"), None);
    }

    #[test]
    fn this_process_has_an_identity_and_a_dead_pid_none() {
        let me = Identity::of(std::process::id()).expect("own identity");
        assert_eq!(Identity::of(std::process::id()), Some(me.clone()));
        assert!(!me.name.is_empty());
        assert_eq!(Identity::of(u32::MAX), None);
    }
}
