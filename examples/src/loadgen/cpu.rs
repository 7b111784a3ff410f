//! The CPU time of the process under load (`--cpu-pid`), read from
//! `/proc/PID/stat` at the exact start and end of the measured window, so
//! loadgen's own start-up and exit are outside it.

use serde::Serialize;

/// CPU the target used during the measured window.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TargetCpu {
    /// The process.
    pub pid: u32,
    /// User + system CPU seconds in the window.
    pub seconds: f64,
    /// `seconds` over the window's length, in % of one core.
    pub percent_of_core: f64,
}

/// User + system CPU seconds of `pid` so far; `None` when it cannot be
/// read (no such process, not Linux).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(ticks(&stat)? as f64 / clock_ticks()?)
}

/// utime + stime, in clock ticks, from a `/proc/PID/stat` line.
fn ticks(stat: &str) -> Option<u64> {
    // The command name is in parentheses and may hold spaces or `)`: the
    // fields start after the last `)`.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state (field 3) … utime is field 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), as the kernel counts
/// `/proc` times.
fn clock_ticks() -> Option<f64> {
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok()??;
    (ticks > 0).then_some(ticks as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_found_after_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    1234 567 0 0 20 0 8 0 1000 0 0";
        assert_eq!(ticks(stat), Some(1234 + 567));
        assert_eq!(ticks("garbage"), None);
        assert_eq!(ticks("1 (x) S 1"), None);
    }

    #[test]
    fn this_process_has_used_some_cpu_and_the_tick_rate_is_read() {
        let spin: u64 = (0..2_000_000u64).fold(0, |a, b| a.wrapping_add(b * b));
        assert!(spin > 0);
        let ticks = clock_ticks().expect("sysconf(_SC_CLK_TCK)");
        assert!(ticks >= 1.0);
        let seconds = cpu_seconds(std::process::id()).expect("own /proc/PID/stat");
        assert!(seconds >= 0.0);
        assert_eq!(cpu_seconds(u32::MAX), None);
    }
}
