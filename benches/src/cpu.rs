//! CPU time of this process, for the measurements criterion does not make
//! (idle cost of a thread pool, cost of the monitor loop).

use std::time::Duration;

/// CPU time of every live thread of this process, summed from
/// `/proc/self/task/*/schedstat` (nanoseconds on CPU). Threads that have
/// exited no longer count, so compare readings taken while the threads
/// being measured are alive.
pub fn process_cpu() -> Duration {
    let mut nanos = 0u64;
    for entry in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = entry.expect("task entry").path().join("schedstat");
        if let Ok(text) = std::fs::read_to_string(path) {
            nanos += text
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Duration::from_nanos(nanos)
}
