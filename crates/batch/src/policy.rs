//! When a batch is dispatched: the policy a batcher follows and the reason
//! each flush happened.

use std::fmt;

/// When queued items are dispatched as a batch. Every policy respects
/// `max_concurrent_batches`: a ready batch waits for a free slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlushPolicy {
    /// Dispatch at once whenever fewer than `max_concurrent_batches`
    /// batches are in flight, with whatever is queued (up to
    /// `max_batch_size`). An idle system adds no latency — a lone item goes
    /// out alone, immediately; a busy one fills batches naturally while
    /// every slot is taken. `max_wait` is not used.
    #[default]
    Eager,
    /// Dispatch when `max_batch_size` items are queued, or when the oldest
    /// queued item has waited `max_wait` — never earlier. Every lone item
    /// pays `max_wait`; this exists for comparison and for back ends that
    /// charge per call more than they charge for latency.
    Fixed,
}

/// Why a batch was dispatched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlushReason {
    /// `max_batch_size` items were queued.
    Size,
    /// The oldest queued item had waited `max_wait` ([`FlushPolicy::Fixed`]).
    Time,
    /// A slot was free ([`FlushPolicy::Eager`]), with fewer than
    /// `max_batch_size` items queued.
    Eager,
    /// The batcher was closing (or its runtime had shut down): everything
    /// queued goes out without waiting.
    Shutdown,
}

impl FlushReason {
    /// A short lowercase name (`size`, `time`, `eager`, `shutdown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Size => "size",
            Self::Time => "time",
            Self::Eager => "eager",
            Self::Shutdown => "shutdown",
        }
    }
}

impl fmt::Display for FlushReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
