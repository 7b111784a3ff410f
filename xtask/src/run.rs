//! Running child commands so that a signal to xtask stops them too.

use std::process::{Command, ExitStatus};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::signals;

/// Runs `command` in its own process group and waits for it. On SIGINT or
/// SIGTERM to xtask, the whole group gets SIGTERM (then SIGKILL after 10 s)
/// and this returns an error, so the caller can tear its servers down.
pub(crate) fn run(command: &mut Command) -> Result<ExitStatus> {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {command:?}"))?;
    let group = Pid::from_raw(i32::try_from(child.id()).context("pid out of range")?);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if signals::interrupted() {
            let _ = killpg(group, Signal::SIGTERM);
            for _ in 0..200 {
                if child.try_wait()?.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = killpg(group, Signal::SIGKILL);
            let _ = child.wait();
            bail!("interrupted by a signal");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Runs `command` and fails unless it exits successfully.
pub(crate) fn run_ok(command: &mut Command) -> Result<()> {
    let status = run(command)?;
    if !status.success() {
        bail!("{} failed ({status})", describe(command));
    }
    Ok(())
}

/// `program arg arg …`, for messages.
pub(crate) fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
