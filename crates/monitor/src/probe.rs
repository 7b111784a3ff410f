//! `MemoryProbe`: how much a block grew the process's resident memory.

use crate::sampler::current_rss;

/// Default growth that triggers the warning: 10 MB, as in the original
/// guide's `monitor_memory` decorator.
pub const DEFAULT_MEMORY_THRESHOLD: u64 = 10 * 1024 * 1024;

/// A scope guard that reads the process RSS when created and again when
/// finished (or dropped), and emits a `tracing` warning (target
/// `perfect21_monitor::memory`) when it grew by more than the threshold.
///
/// ```
/// use perfect21_monitor::MemoryProbe;
///
/// let probe = MemoryProbe::new("load users");
/// let users: Vec<u64> = (0..1000).collect();
/// let growth = probe.finish(); // bytes (negative when memory shrank)
/// # let _ = (users, growth);
///
/// // The closure form returns the closure's result.
/// let sum: u64 = MemoryProbe::measure("sum", || (0..10u64).sum());
/// assert_eq!(sum, 45);
/// ```
#[derive(Debug)]
pub struct MemoryProbe {
    label: String,
    threshold: u64,
    before: Option<u64>,
    done: bool,
}

impl MemoryProbe {
    /// Starts measuring, with the 10 MB default threshold.
    pub fn new(label: impl Into<String>) -> Self {
        Self::with_threshold(label, DEFAULT_MEMORY_THRESHOLD)
    }

    /// Starts measuring, warning above `threshold_bytes` of growth.
    pub fn with_threshold(label: impl Into<String>, threshold_bytes: u64) -> Self {
        Self {
            label: label.into(),
            threshold: threshold_bytes,
            before: current_rss(),
            done: false,
        }
    }

    /// Runs `f` under a probe with the default threshold.
    pub fn measure<R>(label: impl Into<String>, f: impl FnOnce() -> R) -> R {
        let probe = Self::new(label);
        let out = f();
        probe.finish();
        out
    }

    /// The RSS read at the start, in bytes (`None` where the platform does
    /// not tell).
    pub fn rss_before(&self) -> Option<u64> {
        self.before
    }

    /// Ends the measurement; returns the growth in bytes (0 when RSS could
    /// not be read) and warns when it exceeds the threshold.
    pub fn finish(mut self) -> i64 {
        self.check()
    }

    fn check(&mut self) -> i64 {
        self.done = true;
        let (Some(before), Some(after)) = (self.before, current_rss()) else {
            return 0;
        };
        let growth = after as i64 - before as i64;
        if growth > 0 && growth as u64 > self.threshold {
            tracing::warn!(
                target: "perfect21_monitor::memory",
                label = %self.label,
                before,
                after,
                growth,
                threshold = self.threshold,
                "memory grew by {:.1} MB in `{}`",
                growth as f64 / 1_048_576.0,
                self.label
            );
        }
        growth
    }
}

impl Drop for MemoryProbe {
    fn drop(&mut self) {
        if !self.done {
            self.check();
        }
    }
}
