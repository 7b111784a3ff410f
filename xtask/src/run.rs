//! Running child commands so that a signal to xtask stops them too.

use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::signals;

/// Runs `command` in its own process group and waits for it. On SIGINT or
/// SIGTERM to xtask, the whole group gets SIGTERM (then SIGKILL after 10 s)
/// and this returns an error, so the caller can tear its servers down.
pub(crate) fn run(command: &mut Command) -> Result<ExitStatus> {
    run_until(command, None)
}

/// [`run`], and past `deadline` (when given) the group is stopped the same
/// way and this returns [`Overran`].
pub(crate) fn run_until(command: &mut Command, deadline: Option<Instant>) -> Result<ExitStatus> {
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
        let overran = deadline.is_some_and(|d| Instant::now() >= d);
        if signals::interrupted() || overran {
            let _ = killpg(group, Signal::SIGTERM);
            for _ in 0..200 {
                if child.try_wait()?.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = killpg(group, Signal::SIGKILL);
            let _ = child.wait();
            if overran {
                return Err(Overran.into());
            }
            bail!("interrupted by a signal");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A command was stopped at its deadline.
#[derive(Debug)]
pub(crate) struct Overran;

impl std::fmt::Display for Overran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped at its deadline")
    }
}

impl std::error::Error for Overran {}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_past_its_deadline_is_stopped_with_its_group() {
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 600 & sleep 600"]);
        let started = Instant::now();
        let error = run_until(&mut command, Some(started + Duration::from_millis(200)))
            .expect_err("stopped at the deadline");
        assert!(error.is::<Overran>(), "{error:#}");
    }

    #[test]
    fn a_command_within_its_deadline_runs_to_its_end() {
        let far = Some(Instant::now() + Duration::from_secs(600));
        assert!(run_until(&mut Command::new("true"), far).unwrap().success());
        assert!(
            !run_until(&mut Command::new("false"), far)
                .unwrap()
                .success()
        );
    }
}
