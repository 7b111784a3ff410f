//! The demo's long-running children (upstreams, the showcase): each in its
//! own process group, its stderr in a log file, the address it prints read
//! from stdout, and the whole group killed when the handle drops — on every
//! exit path, a signal to xtask included (the caller checks
//! `signals::interrupted()` and returns, which drops the handles).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::signals;

/// A running child; its process group is killed on drop.
#[derive(Debug)]
pub(crate) struct Running {
    pub(crate) addr: String,
    child: Child,
}

impl Running {
    /// Starts `command`, sends its stderr to `log`, and waits up to
    /// `timeout` for the `listening ADDR` line on its stdout.
    pub(crate) fn start(
        name: &str,
        command: &mut Command,
        log: &Path,
        timeout: Duration,
    ) -> Result<Self> {
        command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(log).with_context(|| format!("creating {}", log.display()))?);
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let mut running = Running {
            addr: String::new(),
            child,
        };
        let deadline = Instant::now() + timeout;
        loop {
            if signals::interrupted() {
                bail!("interrupted by a signal");
            }
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => match line.strip_prefix("listening ") {
                    Some(addr) => {
                        running.addr = addr.trim().to_string();
                        return Ok(running);
                    }
                    None => bail!(
                        "{name} printed `{line}` instead of `listening ADDR` (log: {})",
                        log.display()
                    ),
                },
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    bail!("{name} exited before listening (log: {})", log.display())
                }
            }
            if let Some(status) = running.child.try_wait()? {
                bail!(
                    "{name} exited ({status}) before listening (log: {})",
                    log.display()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{name} did not listen within {timeout:?} (log: {})",
                    log.display()
                );
            }
        }
    }

    /// The child's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let Ok(pid) = i32::try_from(self.child.id()) else {
            return;
        };
        let group = Pid::from_raw(pid);
        let _ = killpg(group, Signal::SIGTERM);
        for _ in 0..60 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// The peak RSS (`VmHWM`) of `pid` in bytes.
pub(crate) fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(status_kb(&status, "VmHWM:")? * 1024)
}

fn status_kb(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_kib() {
        let status = "Name:\tshowcase\nVmHWM:\t  51234 kB\nVmRSS:\t   4096 kB\n";
        assert_eq!(status_kb(status, "VmHWM:"), Some(51234));
        assert_eq!(status_kb(status, "VmRSS:"), Some(4096));
        assert_eq!(status_kb(status, "VmSwap:"), None);
        assert_eq!(status_kb("VmHWM: lots kB", "VmHWM:"), None);
    }

    #[test]
    fn a_child_s_address_is_read_and_its_whole_group_dies_with_the_handle() {
        let dir = std::env::temp_dir().join(format!("xtask-child-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut command = Command::new("sh");
        // Prints an address as the showcase does, then leaves a grandchild
        // in its group that would outlive a kill of the child alone.
        command.args(["-c", "echo 'listening 127.0.0.1:4242'; sleep 600 & wait"]);
        let running = Running::start(
            "test child",
            &mut command,
            &dir.join("child.log"),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(running.addr, "127.0.0.1:4242");
        let pid = running.pid();
        assert!(peak_rss(pid).is_some_and(|bytes| bytes > 0));
        drop(running);
        assert!(peak_rss(pid).is_none(), "the child is gone");
        // The grandchild was signalled with the group; it is gone once the
        // kernel has delivered that (bounded: 5 s).
        let group_alive = || {
            let out = std::process::Command::new("pgrep")
                .args(["-g", &pid.to_string()])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = group_alive();
            if left.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "its process group outlived the handle: {left}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }

        // A child that says something else, or exits, is an error naming it.
        let mut chatty = Command::new("sh");
        chatty.args(["-c", "echo hello; sleep 600"]);
        let error = Running::start(
            "chatty",
            &mut chatty,
            &dir.join("chatty.log"),
            Duration::from_secs(10),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("chatty printed `hello`"), "{error}");
        let mut quitter = Command::new("true");
        let error = Running::start(
            "quitter",
            &mut quitter,
            &dir.join("quitter.log"),
            Duration::from_secs(10),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("quitter exited"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
