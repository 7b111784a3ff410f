//! The task queue: a lock-free MPMC queue (`crossbeam_queue::SegQueue`)
//! behind one atomic word that counts the tasks admitted and not yet
//! started, and carries the `CLOSED` bit.
//!
//! A submitter *admits* its task first (one CAS on the word, which is where
//! capacity and shutdown are decided, so a refused task was never boxed),
//! then pushes it. A worker pops, then decrements the count. The count is
//! therefore never below the number of tasks in the queue, and "count is
//! zero" is the emptiness test the hand-off protocol relies on (see
//! `handoff.rs`): it is one `SeqCst` location, which a worker can order
//! against its own announcements.
//!
//! Between its admission and its push a submitter boxes the task, which
//! can take a while (an allocation, or a preemption): a worker that finds
//! the count above zero and the queue empty spins briefly, then sleeps
//! until a push (or until the count drops to zero, when another worker took
//! the task). It announces itself (`awaiting`, a `SeqCst` read-modify-write)
//! before it looks at the queue under `push_lock`; a pusher pushes, then
//! reads `awaiting`, and a popper decrements the count, then reads it:
//! whichever comes second sees the other, so no wake-up is lost
//! (`SegQueue::push` is a `SeqCst` CAS of its tail, and its `pop` reads the
//! tail after a `SeqCst` fence).
//!
//! Under `cfg(perfect21_loom)` the queue is a loom mutex around a
//! `VecDeque` (the word and its protocol stay as they are), so loom checks
//! the pool's protocol over a linearizable queue.

use std::sync::atomic::Ordering::SeqCst;
use std::time::Instant;

use crossbeam_utils::CachePadded;

use crate::sync::{self, AtomicU64, AtomicUsize, Condvar, Mutex};
use crate::task::Task;

const CLOSED: u64 = 1 << 63;
const COUNT: u64 = CLOSED - 1;

/// How a worker waits for an admitted task's push: `SPINS` spin hints,
/// then `YIELDS` yields of the CPU, then it sleeps until a push.
#[cfg(not(perfect21_loom))]
const SPINS: u32 = 16;
#[cfg(not(perfect21_loom))]
const YIELDS: u32 = 4;
// Loom explores every interleaving of each round: one is enough.
#[cfg(perfect21_loom)]
const SPINS: u32 = 1;
#[cfg(perfect21_loom)]
const YIELDS: u32 = 0;

/// Tasks the queue can hold when it is "unbounded".
pub(crate) const UNBOUNDED: usize = 1 << 48;

/// What [`TaskQueue::admit`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// A place is reserved: push the task.
    Admitted,
    /// `capacity` tasks are waiting.
    Full,
    /// The pool is shutting down.
    Closed,
}

pub(crate) struct TaskQueue {
    word: CachePadded<AtomicU64>,
    #[cfg(not(perfect21_loom))]
    tasks: crossbeam_queue::SegQueue<Task>,
    #[cfg(perfect21_loom)]
    tasks: Mutex<std::collections::VecDeque<Task>>,
    capacity: u64,
    /// Submitters blocked on a full queue (`RejectionPolicy::Block`).
    blocked: AtomicUsize,
    space_lock: Mutex<()>,
    space: Condvar,
    /// Workers asleep until an admitted task is pushed.
    awaiting: AtomicUsize,
    push_lock: Mutex<()>,
    pushed: Condvar,
}

impl std::fmt::Debug for TaskQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskQueue")
            .field("queued", &self.len())
            .field("closed", &self.is_closed())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl TaskQueue {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            word: CachePadded::new(AtomicU64::new(0)),
            tasks: Default::default(),
            capacity: capacity as u64,
            blocked: AtomicUsize::new(0),
            space_lock: Mutex::new(()),
            space: Condvar::new(),
            awaiting: AtomicUsize::new(0),
            push_lock: Mutex::new(()),
            pushed: Condvar::new(),
        }
    }

    /// Reserves a place for one task.
    pub(crate) fn admit(&self) -> Admit {
        if self.capacity == UNBOUNDED as u64 {
            // One read-modify-write, no retry loop; undone if closed.
            let word = self.word.fetch_add(1, SeqCst);
            if word & CLOSED == 0 && word & COUNT < self.capacity {
                return Admit::Admitted;
            }
            self.undo_admit();
            return if word & CLOSED != 0 {
                Admit::Closed
            } else {
                Admit::Full
            };
        }
        let mut word = self.word.load(SeqCst);
        loop {
            if word & CLOSED != 0 {
                return Admit::Closed;
            }
            if word & COUNT >= self.capacity {
                return Admit::Full;
            }
            match self
                .word
                .compare_exchange_weak(word, word + 1, SeqCst, SeqCst)
            {
                Ok(_) => return Admit::Admitted,
                Err(now) => word = now,
            }
        }
    }

    /// Takes back a place [`admit`](Self::admit) counted and then refused.
    /// While it was counted, a worker may have found the queue empty with
    /// the count above zero and gone to sleep waiting for a push that will
    /// never come: wake it to look again.
    fn undo_admit(&self) {
        self.word.fetch_sub(1, SeqCst);
        self.wake_awaiting();
    }

    /// [`admit`](Self::admit), waiting for a place while the queue is full,
    /// until `deadline` when there is one (`Full` then).
    pub(crate) fn admit_waiting(&self, deadline: Option<Instant>) -> Admit {
        let first = self.admit();
        if first != Admit::Full {
            return first;
        }
        self.blocked.fetch_add(1, SeqCst);
        sync::announce_then_look();
        let mut guard = sync::lock(&self.space_lock);
        let admit = loop {
            let admit = self.admit();
            if admit != Admit::Full {
                break admit;
            }
            let (next, timed_out) = sync::wait_until(&self.space, guard, deadline);
            guard = next;
            if timed_out {
                // A wake-up meant for this waiter may have arrived with the
                // timeout: one last try keeps the place from going unused.
                break self.admit();
            }
        };
        drop(guard);
        self.blocked.fetch_sub(1, SeqCst);
        admit
    }

    /// Pushes an admitted task.
    pub(crate) fn push(&self, task: Task) {
        #[cfg(not(perfect21_loom))]
        self.tasks.push(task);
        #[cfg(perfect21_loom)]
        sync::lock(&self.tasks).push_back(task);
        self.wake_awaiting();
    }

    /// Takes the oldest task; `None` when no task is admitted.
    pub(crate) fn pop(&self) -> Option<Task> {
        self.pop_then(|| ())
    }

    /// [`pop`](Self::pop), running `taken` once the outcome is known and
    /// before the count drops (a worker in transit leaves transit there, so
    /// a task it took is counted by one of the two at every instant).
    pub(crate) fn pop_then(&self, taken: impl FnOnce()) -> Option<Task> {
        let mut spins = 0u32;
        loop {
            // The queue first: under load the word is touched once per task,
            // by the decrement.
            if let Some(task) = self.try_pop() {
                return Some(self.took(task, taken));
            }
            if self.word.load(SeqCst) & COUNT == 0 {
                taken();
                return None;
            }
            // A task is admitted but not pushed yet, or another worker has
            // popped it and not yet decremented.
            spins += 1;
            if spins <= SPINS {
                sync::spin_hint();
            } else if spins <= SPINS + YIELDS {
                sync::thread::yield_now();
            } else {
                return self.wait_for_push(taken);
            }
        }
    }

    /// Sleeps until a task is pushed (and takes it) or the count drops to
    /// zero (`None`). See the module docs for why no wake-up is lost.
    fn wait_for_push(&self, taken: impl FnOnce()) -> Option<Task> {
        self.awaiting.fetch_add(1, SeqCst);
        sync::announce_then_look();
        let mut guard = sync::lock(&self.push_lock);
        let found = loop {
            if let Some(task) = self.try_pop() {
                break Some(task);
            }
            if self.word.load(SeqCst) & COUNT == 0 {
                break None;
            }
            guard = match self.pushed.wait(guard) {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
        };
        drop(guard);
        self.awaiting.fetch_sub(1, SeqCst);
        match found {
            Some(task) => Some(self.took(task, taken)),
            None => {
                taken();
                None
            }
        }
    }

    /// Bookkeeping after a pop: `taken`, then the count drops, then the
    /// waiters that the drop concerns are woken.
    fn took(&self, task: Task, taken: impl FnOnce()) -> Task {
        taken();
        self.word.fetch_sub(1, SeqCst);
        self.wake_blocked_submitter();
        // A worker waiting for a push may be waiting for this task, which
        // is taken: with the count at zero it has nothing to wait for.
        self.wake_awaiting();
        task
    }

    /// Wakes the workers waiting for a push, if any, to look again.
    fn wake_awaiting(&self) {
        sync::announce_then_look();
        if self.awaiting.load(SeqCst) > 0 {
            // A waiter holds the lock from its look until its wait releases
            // it: after taking the lock here, it waits.
            drop(sync::lock(&self.push_lock));
            self.pushed.notify_all();
        }
    }

    /// Workers asleep until an admitted task is pushed.
    #[cfg(all(test, not(perfect21_loom)))]
    pub(crate) fn awaiting_push(&self) -> usize {
        self.awaiting.load(SeqCst)
    }

    fn try_pop(&self) -> Option<Task> {
        #[cfg(not(perfect21_loom))]
        {
            self.tasks.pop()
        }
        #[cfg(perfect21_loom)]
        {
            sync::lock(&self.tasks).pop_front()
        }
    }

    fn wake_blocked_submitter(&self) {
        sync::announce_then_look();
        if self.blocked.load(SeqCst) > 0 {
            // A blocked submitter holds the lock from its last `admit` until
            // its wait releases it: after taking the lock here, it waits.
            drop(sync::lock(&self.space_lock));
            self.space.notify_one();
        }
    }

    /// Tasks admitted and not yet started.
    pub(crate) fn len(&self) -> usize {
        (self.word.load(SeqCst) & COUNT) as usize
    }

    /// Submitters waiting for a place.
    pub(crate) fn blocked(&self) -> usize {
        self.blocked.load(SeqCst)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.word.load(SeqCst) & CLOSED != 0
    }

    /// Whether a worker has something to do: a task admitted, or the pool
    /// closed (time to leave once the queue is empty).
    pub(crate) fn has_work_or_closed(&self) -> bool {
        self.word.load(SeqCst) != 0
    }

    /// Closed and empty: workers may exit.
    pub(crate) fn is_drained(&self) -> bool {
        self.word.load(SeqCst) == CLOSED
    }

    /// Refuses every admission from now on and wakes blocked submitters
    /// (they return `Closed`).
    pub(crate) fn close(&self) {
        self.word.fetch_or(CLOSED, SeqCst);
        drop(sync::lock(&self.space_lock));
        self.space.notify_all();
    }
}

#[cfg(all(test, not(perfect21_loom)))]
mod tests {
    use std::sync::Arc;

    use super::{Admit, TaskQueue, UNBOUNDED};
    use crate::task::{Execute, Task};

    fn task() -> Task {
        Box::new(Execute(|| ()))
    }

    /// Waits (yielding, no timer) until `n` workers sleep on the push.
    fn until_awaiting(queue: &TaskQueue, n: usize) {
        while queue.awaiting_push() < n {
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_worker_sleeps_until_an_admitted_task_is_pushed() {
        let queue = Arc::new(TaskQueue::new(UNBOUNDED));
        assert_eq!(queue.admit(), Admit::Admitted);
        let popper = {
            let queue = Arc::clone(&queue);
            std::thread::spawn(move || queue.pop().is_some())
        };
        // The popper stops spinning and sleeps: it is counted as waiting.
        until_awaiting(&queue, 1);
        queue.push(task());
        assert!(popper.join().unwrap(), "the waiter took the pushed task");
        assert_eq!((queue.len(), queue.awaiting_push()), (0, 0));
    }

    /// Regression (issue 15 review): an admission refused on a closed
    /// queue counts itself, then takes the count back. A worker that looked
    /// in between found the queue empty with the count at one, went to
    /// sleep waiting for a push, and was never woken: its pool's shutdown
    /// hung joining it. (With the old undo this test never returns.)
    #[test]
    fn a_worker_waiting_on_a_refused_admission_is_woken_by_its_undo() {
        use std::sync::atomic::Ordering::SeqCst;
        let queue = Arc::new(TaskQueue::new(UNBOUNDED));
        queue.close();
        // The first half of a refused admission: counted on a closed queue.
        queue.word.fetch_add(1, SeqCst);
        let popper = {
            let queue = Arc::clone(&queue);
            std::thread::spawn(move || queue.pop().is_none())
        };
        until_awaiting(&queue, 1);
        // The second half, as `admit` does it.
        queue.undo_admit();
        assert!(popper.join().unwrap(), "woken, the worker finds nothing");
        assert_eq!((queue.len(), queue.awaiting_push()), (0, 0));
    }

    #[test]
    fn a_sleeping_worker_whose_task_another_took_wakes_and_finds_none() {
        let queue = Arc::new(TaskQueue::new(UNBOUNDED));
        assert_eq!(queue.admit(), Admit::Admitted);
        let poppers: Vec<_> = (0..2)
            .map(|_| {
                let queue = Arc::clone(&queue);
                std::thread::spawn(move || queue.pop().is_some())
            })
            .collect();
        until_awaiting(&queue, 2);
        queue.push(task());
        let took: usize = poppers
            .into_iter()
            .map(|p| usize::from(p.join().unwrap()))
            .sum();
        assert_eq!(took, 1, "one task, taken once; the other waiter left");
        assert_eq!((queue.len(), queue.awaiting_push()), (0, 0));
    }
}
