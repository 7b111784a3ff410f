//! Exact statistics: the counters a batcher keeps, the histograms behind
//! its percentiles, and the snapshot it hands out.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::policy::FlushReason;

/// A snapshot of a batcher's counters and distributions.
///
/// Counts are exact. Every accepted item ends in exactly one of
/// `completed`, `failed`, `cancelled` or `aborted`, or is still `queued` or
/// in a batch in flight; once the batcher is idle,
/// `submitted == completed + failed + cancelled + aborted`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BatchStats {
    /// Items accepted into the queue.
    pub submitted: u64,
    /// Items whose batch succeeded (each got its output, or had already
    /// stopped waiting for it).
    pub completed: u64,
    /// Items whose batch failed: an error, a wrong output count, a panic or
    /// a timeout.
    pub failed: u64,
    /// Items removed from the queue because their caller stopped waiting
    /// before the batch was dispatched; the batch function never saw them.
    pub cancelled: u64,
    /// Items whose batch was dropped before it finished because the tokio
    /// runtime running it shut down (their callers got
    /// [`BatchError::Aborted`](crate::BatchError::Aborted)).
    pub aborted: u64,
    /// Items refused: `try_submit` on a full queue, or any submit after
    /// the batcher closed.
    pub rejected: u64,
    /// Keyed form only: requests answered by a load another request caused
    /// — a request for the same key earlier in the same batch, or (counted
    /// in `joined` too) a load of the key already in flight in another
    /// batch. 0 for [`Batcher`](crate::Batcher).
    pub deduplicated: u64,
    /// Keyed form only: requests whose key was already being loaded by
    /// another batch in flight when their batch started, and which got that
    /// load's answer instead of loading the key again (DataLoader-style
    /// joining). A subset of `deduplicated`.
    pub joined: u64,
    /// Batches dispatched.
    pub batches: u64,
    /// Batches dispatched, by reason.
    pub flushes: FlushCounts,
    /// Batches that failed, by kind.
    pub failures: FailureCounts,
    /// Batches running now.
    pub in_flight_batches: usize,
    /// Items waiting for a batch now.
    pub queued_items: usize,
    /// Items per batch.
    pub batch_size: SizeSummary,
    /// Time from submit to dispatch.
    pub queue_wait: WaitSummary,
}

impl BatchStats {
    /// Accepted items without an outcome yet (queued or in flight).
    pub fn outstanding(&self) -> u64 {
        self.submitted
            .saturating_sub(self.completed + self.failed + self.cancelled + self.aborted)
    }
}

/// Batches dispatched, by [`FlushReason`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct FlushCounts {
    /// `max_batch_size` items were queued.
    pub size: u64,
    /// The oldest item had waited `max_wait`.
    pub time: u64,
    /// A slot was free under the eager policy.
    pub eager: u64,
    /// The batcher was closing.
    pub shutdown: u64,
}

/// Failed batches, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct FailureCounts {
    /// The batch function returned `Err`.
    pub error: u64,
    /// It returned the wrong number of outputs.
    pub output_mismatch: u64,
    /// It panicked.
    pub panic: u64,
    /// It exceeded `batch_timeout`.
    pub timeout: u64,
}

/// The distribution of batch sizes (0 everywhere before the first batch).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct SizeSummary {
    /// Mean items per batch.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest batch.
    pub max: u64,
}

/// The distribution of queue waits, to three significant digits (zero
/// everywhere before the first batch).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct WaitSummary {
    /// Mean.
    pub mean: Duration,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Longest.
    pub max: Duration,
}

/// The counts kept under the queue's lock (changed with the queue, so they
/// cost no atomic operation of their own).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct QueueCounts {
    pub(crate) submitted: u64,
    pub(crate) cancelled: u64,
    pub(crate) in_flight_batches: usize,
    pub(crate) queued_items: usize,
}

/// The counters updated once per batch (or per refusal), on their own
/// cache lines, away from the queue's lock.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Counters {
    pub(crate) completed: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) aborted: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) deduplicated: AtomicU64,
    pub(crate) joined: AtomicU64,
    pub(crate) batches: AtomicU64,
    flush_size: AtomicU64,
    flush_time: AtomicU64,
    flush_eager: AtomicU64,
    flush_shutdown: AtomicU64,
    pub(crate) fail_error: AtomicU64,
    pub(crate) fail_mismatch: AtomicU64,
    pub(crate) fail_panic: AtomicU64,
    pub(crate) fail_timeout: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Relaxed);
    }

    /// Counts a dispatched batch.
    pub(crate) fn flushed(&self, reason: FlushReason) {
        let counter = match reason {
            FlushReason::Size => &self.flush_size,
            FlushReason::Time => &self.flush_time,
            FlushReason::Eager => &self.flush_eager,
            FlushReason::Shutdown => &self.flush_shutdown,
        };
        counter.fetch_add(1, Relaxed);
        self.batches.fetch_add(1, Relaxed);
    }
}

/// Batch sizes and queue waits (nanoseconds). `None` only if hdrhistogram
/// refused 3 significant digits, which it accepts (0 ..= 5): then the
/// summaries stay zero rather than the batcher failing.
#[derive(Debug)]
pub(crate) struct Histograms {
    batch_size: Option<Histogram<u64>>,
    queue_wait_ns: Option<Histogram<u64>>,
}

impl Histograms {
    pub(crate) fn new() -> Self {
        Self {
            batch_size: Histogram::new(3).ok(),
            queue_wait_ns: Histogram::new(3).ok(),
        }
    }

    /// Records one batch: its size and each item's wait.
    pub(crate) fn record(&mut self, size: usize, waits: impl Iterator<Item = Duration>) {
        if let Some(h) = &mut self.batch_size {
            record(h, size as u64);
        }
        if let Some(h) = &mut self.queue_wait_ns {
            for wait in waits {
                record(h, u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX));
            }
        }
    }

    fn sizes(&self) -> SizeSummary {
        match &self.batch_size {
            Some(h) if !h.is_empty() => SizeSummary {
                mean: h.mean(),
                p50: h.value_at_quantile(0.50),
                p90: h.value_at_quantile(0.90),
                p99: h.value_at_quantile(0.99),
                max: h.max(),
            },
            _ => SizeSummary::default(),
        }
    }

    fn waits(&self) -> WaitSummary {
        match &self.queue_wait_ns {
            Some(h) if !h.is_empty() => {
                let at = |q: f64| Duration::from_nanos(h.value_at_quantile(q));
                WaitSummary {
                    mean: Duration::from_nanos(h.mean() as u64),
                    p50: at(0.50),
                    p90: at(0.90),
                    p99: at(0.99),
                    max: Duration::from_nanos(h.max()),
                }
            }
            _ => WaitSummary::default(),
        }
    }
}

/// Records `value`, growing the histogram as needed (`saturating_record`
/// alone would clamp to the current range instead of growing); clamps only
/// if growing fails.
fn record(histogram: &mut Histogram<u64>, value: u64) {
    if histogram.record(value).is_err() {
        histogram.saturating_record(value);
    }
}

/// A snapshot from the live parts.
pub(crate) fn snapshot(
    queue: QueueCounts,
    counters: &Counters,
    histograms: &Histograms,
) -> BatchStats {
    let load = |c: &AtomicU64| c.load(Relaxed);
    BatchStats {
        submitted: queue.submitted,
        completed: load(&counters.completed),
        failed: load(&counters.failed),
        cancelled: queue.cancelled,
        aborted: load(&counters.aborted),
        rejected: load(&counters.rejected),
        deduplicated: load(&counters.deduplicated),
        joined: load(&counters.joined),
        batches: load(&counters.batches),
        flushes: FlushCounts {
            size: load(&counters.flush_size),
            time: load(&counters.flush_time),
            eager: load(&counters.flush_eager),
            shutdown: load(&counters.flush_shutdown),
        },
        failures: FailureCounts {
            error: load(&counters.fail_error),
            output_mismatch: load(&counters.fail_mismatch),
            panic: load(&counters.fail_panic),
            timeout: load(&counters.fail_timeout),
        },
        in_flight_batches: queue.in_flight_batches,
        queued_items: queue.queued_items,
        batch_size: histograms.sizes(),
        queue_wait: histograms.waits(),
    }
}
