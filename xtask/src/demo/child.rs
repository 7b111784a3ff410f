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

/// CPU time (user + system, seconds) and RSS (bytes) of `pid`, from `/proc`.
pub(crate) fn proc_sample(pid: u32) -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb = status_kb(&status, "VmRSS:")?;
    Some((ticks / clock_ticks(), rss_kb * 1024))
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

fn clock_ticks() -> f64 {
    // USER_HZ: 100 on every Linux architecture the project runs on.
    100.0
}
