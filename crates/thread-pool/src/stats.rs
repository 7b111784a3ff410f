//! The stats snapshot and the counters behind it.
//!
//! Each worker counts the tasks it starts and finishes in its own block (a
//! load and a store, no read-modify-write, on no shared cache line). Events
//! of submitters and of the pool as a whole are `fetch_add`s on shared
//! counters. A snapshot sums the live workers' blocks and the blocks of
//! exited workers (folded in under the same lock), so no count is lost or
//! counted twice when a thread retires.
//!
//! # Why every snapshot is consistent
//!
//! A task passes through the stages submitted → queued → running →
//! finished (or queued → cancelled), and is counted into each stage after
//! the one before: `submitted` before it is pushed (so before any worker can
//! take it), `started` after the queue count dropped, `finished` after
//! `started`, each with `Release`. A snapshot reads the stages backwards —
//! finished and cancelled, then started, then the queue count, then
//! submitted — each with `Acquire`, so a task seen in a later stage is
//! seen in every earlier one, and is never counted in two. `running` is
//! `started − finished`; `queued` is the queue count capped at the tasks
//! submitted and not yet started (a task admitted into the queue word but
//! not yet counted as submitted is still being submitted). So every
//! snapshot satisfies `finished + cancelled + running + queued <= submitted`.
//!
//! These are `std` types even under loom: no protocol depends on them, and
//! leaving them out of the model keeps its state space small.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crossbeam_utils::CachePadded;

use crate::pool_state::PoolState;

/// A snapshot of a pool: gauges at the time of the call, and counters that
/// only grow. Every number is exact once the pool is quiescent (for
/// example after [`wait_idle`](crate::ThreadPool::wait_idle)); while other
/// threads work, each counter is exact but they are not read at one
/// instant.
///
/// Every snapshot, even one taken while tasks run, satisfies
/// `completed + panicked + cancelled + running + queued <= submitted`: no
/// task is counted before it was submitted, nor in two stages at once.
/// Once quiescent, `submitted == completed + panicked + cancelled` and
/// `threads == threads_started - threads_retired`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Stats {
    /// Threads now (including one being started).
    pub threads: usize,
    /// The most threads the pool has had at once.
    pub peak_threads: usize,
    /// The pool's `min_threads`.
    pub min_threads: usize,
    /// The pool's `max_threads`.
    pub max_threads: usize,
    /// Idle threads now: spinning (for a few microseconds after their last
    /// task) or parked.
    pub idle: usize,
    /// Threads running a task (or about to): `threads - idle`.
    pub active: usize,
    /// Tasks accepted and not yet started.
    pub queued: usize,
    /// Tasks running now: on the pool's threads, or on a submitter's
    /// thread under [`RejectionPolicy::CallerRuns`](crate::RejectionPolicy::CallerRuns).
    pub running: usize,
    /// Submitters blocked now on a full queue
    /// ([`RejectionPolicy::Block`](crate::RejectionPolicy::Block)).
    pub blocked_submitters: usize,
    /// Tasks accepted: queued, or run on the caller's thread by
    /// [`RejectionPolicy::CallerRuns`](crate::RejectionPolicy::CallerRuns).
    pub submitted: u64,
    /// Tasks that ran and returned.
    pub completed: u64,
    /// Tasks that ran and panicked.
    pub panicked: u64,
    /// Submissions refused: queue full, timed out, or pool shut down.
    pub rejected: u64,
    /// Queued tasks dropped unrun by
    /// [`shutdown_now`](crate::ThreadPool::shutdown_now).
    pub cancelled: u64,
    /// Tasks run on the submitting thread by `CallerRuns` (also counted in
    /// `submitted` and `completed`/`panicked`).
    pub caller_runs: u64,
    /// Threads started since the pool was built.
    pub threads_started: u64,
    /// Threads that exited: idle for `keep_alive`, or at shutdown.
    pub threads_retired: u64,
}

impl Stats {
    /// Tasks that ran, whether they returned or panicked.
    pub fn finished(&self) -> u64 {
        self.completed + self.panicked
    }
}

/// What a shared counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    Rejected,
    /// Tasks started outside a worker (caller runs, shutdown drain).
    Started,
    Cancelled,
    CallerRuns,
    /// Tasks finished outside a worker (caller runs, shutdown drain).
    Completed,
    Panicked,
    ThreadStarted,
    ThreadRetired,
}

const EVENTS: usize = Event::ThreadRetired as usize + 1;

/// One worker's counts, written only by that worker.
#[derive(Debug, Default)]
pub(crate) struct WorkerCounters {
    started: AtomicU64,
    completed: AtomicU64,
    panicked: AtomicU64,
}

impl WorkerCounters {
    /// Counts a task taken from the queue, about to run.
    #[inline]
    pub(crate) fn started(&self) {
        bump(&self.started);
    }

    /// Counts a finished task.
    #[inline]
    pub(crate) fn finished(&self, panicked: bool) {
        bump(if panicked {
            &self.panicked
        } else {
            &self.completed
        });
    }
}

/// Adds one to a counter only its owner writes: a plain load and a
/// `Release` store, which no other writer can interleave with.
#[inline]
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Relaxed) + 1, Release);
}

#[derive(Debug, Default)]
struct Blocks {
    live: Vec<Arc<CachePadded<WorkerCounters>>>,
    /// Sums of the workers that exited.
    exited_started: u64,
    exited_completed: u64,
    exited_panicked: u64,
}

#[derive(Debug)]
pub(crate) struct Counters {
    submitted: CachePadded<AtomicU64>,
    peak_threads: AtomicU64,
    shared: [AtomicU64; EVENTS],
    blocks: Mutex<Blocks>,
}

impl Counters {
    pub(crate) fn new() -> Self {
        Self {
            submitted: CachePadded::new(AtomicU64::new(0)),
            peak_threads: AtomicU64::new(0),
            shared: std::array::from_fn(|_| AtomicU64::new(0)),
            blocks: Mutex::new(Blocks::default()),
        }
    }

    /// Counts an admitted task, before it is pushed (see the module docs).
    #[inline]
    pub(crate) fn submitted(&self) {
        self.submitted.fetch_add(1, Release);
    }

    pub(crate) fn add(&self, event: Event, n: u64) {
        self.shared[event as usize].fetch_add(n, Release);
    }

    pub(crate) fn saw_threads(&self, threads: usize) {
        self.peak_threads.fetch_max(threads as u64, Relaxed);
    }

    fn blocks(&self) -> MutexGuard<'_, Blocks> {
        self.blocks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A block for a new worker.
    pub(crate) fn register(&self) -> Arc<CachePadded<WorkerCounters>> {
        let block = Arc::new(CachePadded::new(WorkerCounters::default()));
        self.blocks().live.push(Arc::clone(&block));
        block
    }

    /// A worker exits: its counts move to the exited sums.
    pub(crate) fn unregister(&self, block: &Arc<CachePadded<WorkerCounters>>) {
        let mut blocks = self.blocks();
        if let Some(at) = blocks.live.iter().position(|b| Arc::ptr_eq(b, block)) {
            blocks.live.swap_remove(at);
            blocks.exited_started += block.started.load(Relaxed);
            blocks.exited_completed += block.completed.load(Relaxed);
            blocks.exited_panicked += block.panicked.load(Relaxed);
        }
    }

    /// Fills the counters of `stats` and its `running` and `queued`
    /// gauges (`queued` reads the queue count; the other gauges are the
    /// caller's), reading the stages in the order the module docs give.
    pub(crate) fn fill(&self, stats: &mut Stats, queued: impl FnOnce() -> usize) {
        let get = |event: Event| self.shared[event as usize].load(Acquire);
        // Finished, then started, then queued, then submitted.
        let blocks = self.blocks();
        let mut completed = get(Event::Completed) + blocks.exited_completed;
        let mut panicked = get(Event::Panicked) + blocks.exited_panicked;
        for block in &blocks.live {
            completed += block.completed.load(Acquire);
            panicked += block.panicked.load(Acquire);
        }
        let cancelled = get(Event::Cancelled);
        let mut started = get(Event::Started) + blocks.exited_started;
        for block in &blocks.live {
            started += block.started.load(Acquire);
        }
        drop(blocks);
        let queued = queued() as u64;
        let submitted = self.submitted.load(Acquire);

        stats.completed = completed;
        stats.panicked = panicked;
        stats.cancelled = cancelled;
        stats.submitted = submitted;
        // A task is started before it finishes, and submitted before it is
        // started or cancelled: neither difference can be negative, the
        // saturation only keeps that promise from resting on this comment.
        stats.running = started.saturating_sub(completed + panicked) as usize;
        let waiting = submitted.saturating_sub(started + cancelled);
        stats.queued = queued.min(waiting) as usize;
        stats.peak_threads = self.peak_threads.load(Relaxed) as usize;
        stats.rejected = get(Event::Rejected);
        stats.caller_runs = get(Event::CallerRuns);
        stats.threads_started = get(Event::ThreadStarted);
        stats.threads_retired = get(Event::ThreadRetired);
    }
}

impl PoolState {
    /// A snapshot of the pool (see the module docs for its consistency).
    pub(crate) fn stats(&self) -> Stats {
        let seen = self.workers.load();
        let mut stats = Stats {
            threads: seen.threads(),
            min_threads: self.config.min_threads,
            max_threads: self.config.max_threads,
            idle: seen.idle(),
            active: seen.threads() - seen.idle(),
            blocked_submitters: self.queue.blocked(),
            ..Stats::default()
        };
        self.counters.fill(&mut stats, || self.queue.len());
        stats
    }
}
