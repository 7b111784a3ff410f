//! The state every handle and worker shares, and the hand-off between
//! submitters and workers.
//!
//! # The hand-off
//!
//! Every accepted task gets exactly one *delivery*, decided lock-free from
//! one reading of the state word after the task is admitted (`deliver`):
//!
//! 1. a spinning worker's token is taken — that spinner picks the task up
//!    within microseconds, no system call;
//! 2. else the most recently parked worker is taken off the idle stack and
//!    unparked;
//! 3. else, unless spinners already on their way to the queue outnumber the
//!    queued tasks, below `max_threads` and if the scaling policy agrees
//!    (always, when no thread exists), a thread is started for it — at once,
//!    not at the next resize;
//! 4. else every thread is busy: the task waits for the first to finish.
//!
//! A worker never sleeps on a task it could run: it announces itself idle
//! (spinning, then parked) with a `SeqCst` read-modify-write of the state
//! word and *then* reads the queue count, while a submitter increments the
//! count and *then* reads the state word. Whichever comes second sees the
//! other: the worker finds the task, or the submitter finds the worker.
//! The loom models in `loom_tests` check this over every interleaving.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Instant;

use crate::config::{Config, RejectionPolicy};
use crate::error::{Error, SubmitError};
use crate::idle::IdleStack;
use crate::panic::{self, drop_quietly, panic_message};
use crate::parker::Parker;
use crate::policy::Load;
use crate::queue::{Admit, TaskQueue, UNBOUNDED};
use crate::registry::Registry;
use crate::state::{Snapshot, Workers};
use crate::stats::{Counters, Event, Stats};
use crate::sync::{self, AtomicUsize, Condvar, Mutex, thread};
use crate::task::{Outcome, Task};
use crate::worker;

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) queue: TaskQueue,
    pub(crate) workers: Workers,
    pub(crate) idle: IdleStack,
    pub(crate) threads: Registry,
    pub(crate) counters: Counters,
    quiet: Quiet,
    next_thread: std::sync::atomic::AtomicUsize,
}

/// Where `wait_idle` waits; workers notify it when they go idle or exit.
#[derive(Debug)]
struct Quiet {
    waiters: AtomicUsize,
    lock: Mutex<()>,
    changed: Condvar,
}

/// How an admitted task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    Queue,
    CallerRuns,
}

impl Shared {
    pub(crate) fn new(config: Config) -> Self {
        let capacity = config.queue_capacity.unwrap_or(UNBOUNDED);
        Self {
            config,
            queue: TaskQueue::new(capacity),
            workers: Workers::new(),
            idle: IdleStack::new(),
            threads: Registry::new(),
            counters: Counters::new(),
            quiet: Quiet {
                waiters: AtomicUsize::new(0),
                lock: Mutex::new(()),
                changed: Condvar::new(),
            },
            next_thread: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// An identity for "is this thread one of my workers".
    pub(crate) fn id(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }

    fn on_own_worker(self: &Arc<Self>) -> bool {
        worker::current_pool() == self.id()
    }

    // ---- submission ----

    /// Admits `f` under the rejection policy and queues (or, for
    /// `CallerRuns`, runs) the task `into_task` makes of it; hands `f` back
    /// when it is refused.
    pub(crate) fn submit<F, T>(
        self: &Arc<Self>,
        f: F,
        into_task: impl FnOnce(F) -> (Task, T),
    ) -> Result<T, SubmitError<F>> {
        match self.admit() {
            Err(error) => Err(SubmitError::new(error, f)),
            Ok(Admission::Queue) => {
                // Counted before the push, so before any worker can start
                // it: no snapshot sees it run and not submitted.
                self.counters.submitted();
                let (task, output) = into_task(f);
                self.queue.push(task);
                self.deliver();
                Ok(output)
            }
            Ok(Admission::CallerRuns) => {
                let (task, output) = into_task(f);
                self.counters.submitted();
                self.counters.add(Event::CallerRuns, 1);
                self.run_counted(task);
                Ok(output)
            }
        }
    }

    fn admit(&self) -> Result<Admission, Error> {
        let capacity = self.config.queue_capacity.unwrap_or(UNBOUNDED);
        let mut waited = None;
        let admit = match self.queue.admit() {
            Admit::Full => match self.config.rejection {
                RejectionPolicy::Reject => Admit::Full,
                RejectionPolicy::CallerRuns => return Ok(Admission::CallerRuns),
                RejectionPolicy::Block { timeout } => {
                    let started = Instant::now();
                    let admit = self.queue.admit_waiting(sync::deadline(timeout));
                    waited = Some(started.elapsed());
                    admit
                }
            },
            admit => admit,
        };
        let error = match admit {
            Admit::Admitted => return Ok(Admission::Queue),
            Admit::Closed => Error::ShutDown,
            Admit::Full => match waited {
                Some(waited) => Error::Timeout { waited, capacity },
                None => Error::QueueFull { capacity },
            },
        };
        self.counters.add(Event::Rejected, 1);
        Err(error)
    }

    /// Gives a just-queued task its delivery (see the module docs).
    fn deliver(self: &Arc<Self>) {
        let max = self.config.max_threads;
        // The task is admitted (counted in the queue word): now look.
        sync::announce_then_look();
        let mut seen = self.workers.load();
        loop {
            if seen.spinning() > 0 {
                if self.workers.take_spinner(seen) {
                    return;
                }
            } else if seen.parked() > 0 {
                if let Some(worker) = self.idle.claim(&self.workers) {
                    worker.unpark();
                    return;
                }
            } else {
                if seen.is_closed() || seen.threads() >= max {
                    return;
                }
                // Spinners in transit take one task each: as many of them as
                // tasks queued, and this task needs no thread of its own (an
                // empty queue: it was taken already). The queue is read
                // first: a worker leaves transit before the count drops.
                let queued = self.queue.len();
                let now = self.workers.load();
                if now != seen {
                    seen = now;
                    continue;
                }
                if queued <= seen.transit() {
                    return;
                }
                let none = seen.threads() == 0;
                if !none && !self.ask_policy(|policy, load| policy.grow(load), seen) {
                    return;
                }
                if self.workers.try_add_thread(seen, max, false).is_ok() {
                    let reason = if none {
                        "a task arrived and no thread was running"
                    } else {
                        "a task arrived and no worker was idle"
                    };
                    // A refusal is logged; the task stays queued for the
                    // next thread (or the shutdown) to run.
                    let _ = self.start_thread(seen.threads() + 1, reason, false);
                    return;
                }
            }
            seen = self.workers.load();
        }
    }

    /// Asks the scaling policy; a panic in it counts as "no".
    pub(crate) fn ask_policy(
        &self,
        question: impl FnOnce(&dyn crate::ScalingPolicy, &Load) -> bool,
        seen: Snapshot,
    ) -> bool {
        let load = Load::new(
            seen.threads(),
            seen.idle(),
            self.queue.len(),
            self.config.min_threads,
            self.config.max_threads,
            Instant::now(),
        );
        let policy = &*self.config.policy;
        match catch_unwind(AssertUnwindSafe(|| question(policy, &load))) {
            Ok(answer) => answer,
            Err(payload) => {
                tracing::error!(
                    target: "perfect21_thread_pool",
                    panic = %panic_message(payload.as_ref()),
                    "the scaling policy panicked; treated as \"no\""
                );
                drop_quietly(payload);
                false
            }
        }
    }

    /// Starts a thread already counted in the state word (`threads` is the
    /// count including it; `idle`: counted with a spinning token).
    pub(crate) fn start_thread(
        self: &Arc<Self>,
        threads: usize,
        reason: &'static str,
        idle: bool,
    ) -> Result<(), Error> {
        let name = format!(
            "{}-{}",
            self.config.thread_name,
            self.next_thread.fetch_add(1, SeqCst)
        );
        let shared = Arc::clone(self);
        let parker = Arc::new(Parker::new());
        let mut builder = thread::Builder::new().name(name);
        if let Some(size) = self.config.stack_size {
            builder = builder.stack_size(size);
        }
        match self
            .threads
            .start(move || builder.spawn(move || worker::run(shared, parker, idle)))
        {
            Ok(()) => {
                self.counters.add(Event::ThreadStarted, 1);
                self.counters.saw_threads(threads);
                tracing::debug!(target: "perfect21_thread_pool", threads, reason, "thread started");
                Ok(())
            }
            Err(error) => {
                self.threads.update(|| {
                    if idle {
                        self.workers.withdraw_token();
                    }
                    self.workers.thread_exited();
                });
                self.notify_quiet();
                tracing::error!(
                    target: "perfect21_thread_pool",
                    %error,
                    threads = threads - 1,
                    "the OS refused to start a pool thread"
                );
                Err(Error::Spawn {
                    message: error.to_string(),
                })
            }
        }
    }

    // ---- running ----

    /// Runs a task, catching what its `run` does not (a panicking
    /// destructor); an unclaimed panic goes to the panic handler. Returns
    /// whether it panicked.
    pub(crate) fn run_task(&self, task: Task) -> bool {
        let payload = match catch_unwind(AssertUnwindSafe(|| task.run())) {
            Ok(Outcome::Completed) => return false,
            Ok(Outcome::Panicked(payload)) => payload,
            Err(payload) => Some(payload),
        };
        if let Some(payload) = payload {
            panic::deliver(&self.config.panic_handler, payload);
        }
        true
    }

    /// Runs a task outside a worker and counts it in the shared counters.
    fn run_counted(&self, task: Task) {
        self.counters.add(Event::Started, 1);
        let event = if self.run_task(task) {
            Event::Panicked
        } else {
            Event::Completed
        };
        self.counters.add(event, 1);
    }

    // ---- idleness ----

    /// Wakes `wait_idle` callers, if any, to re-check.
    pub(crate) fn notify_quiet(&self) {
        sync::announce_then_look();
        if self.quiet.waiters.load(SeqCst) > 0 {
            drop(sync::lock(&self.quiet.lock));
            self.quiet.changed.notify_all();
        }
    }

    /// Waits until no task is queued or running (on this pool's threads;
    /// the calling worker, if it is one, aside), or until `deadline`.
    pub(crate) fn wait_idle(self: &Arc<Self>, deadline: Option<Instant>) -> bool {
        let own = usize::from(self.on_own_worker());
        let quiet = || {
            let seen = self.workers.load();
            self.queue.len() == 0 && seen.threads().saturating_sub(seen.idle()) <= own
        };
        if quiet() {
            return true;
        }
        self.quiet.waiters.fetch_add(1, SeqCst);
        sync::announce_then_look();
        let mut guard = sync::lock(&self.quiet.lock);
        let result = loop {
            if quiet() {
                break true;
            }
            let (next, timed_out) = sync::wait_until(&self.quiet.changed, guard, deadline);
            guard = next;
            if timed_out {
                break quiet();
            }
        };
        drop(guard);
        self.quiet.waiters.fetch_sub(1, SeqCst);
        result
    }

    // ---- shutdown ----

    /// Stops accepting tasks, cancels the queued ones if `cancel`, lets the
    /// workers finish the rest and joins them.
    pub(crate) fn shutdown(self: &Arc<Self>, cancel: bool) {
        if !self.queue.is_closed() {
            tracing::debug!(target: "perfect21_thread_pool", cancel, "shutting down");
        }
        self.queue.close();
        self.workers.close();
        if cancel {
            let mut cancelled = 0;
            while let Some(task) = self.queue.pop() {
                drop_quietly(task);
                cancelled += 1;
            }
            self.counters.add(Event::Cancelled, cancelled);
        }
        for worker in self.idle.claim_all(&self.workers) {
            worker.unpark();
        }
        self.join_all();
        self.notify_quiet();
    }

    /// Joins every thread but the caller's own (when a task shuts its pool
    /// down). Tasks left with no thread to run them — admitted while the
    /// last worker left, or after a thread failed to start — run here.
    fn join_all(self: &Arc<Self>) {
        let own = self.on_own_worker();
        let me = thread::current().id();
        loop {
            let mut handles = self.threads.lock();
            let taken = std::mem::take(&mut handles.handles);
            if taken.iter().all(|handle| handle.thread().id() == me) {
                let others = self
                    .workers
                    .load()
                    .threads()
                    .saturating_sub(usize::from(own));
                // A start in flight will record a handle to join, even if
                // its thread has already exited and left the count.
                if others == 0 && handles.starting == 0 {
                    drop(handles);
                    if self.queue.len() == 0 {
                        return;
                    }
                    while let Some(task) = self.queue.pop() {
                        self.run_counted(task);
                    }
                    continue;
                }
                // A thread being started or exiting: wait for its news.
                drop(match self.threads.changed.wait(handles) {
                    Ok(guard) => guard,
                    Err(poisoned) => poisoned.into_inner(),
                });
                continue;
            }
            drop(handles);
            for handle in taken {
                if handle.thread().id() != me {
                    // A worker catches every panic: `Err` cannot happen.
                    let _ = handle.join();
                }
            }
        }
    }

    // ---- stats ----

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
