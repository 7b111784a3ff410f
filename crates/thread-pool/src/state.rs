//! The workers' state in one atomic word: how many threads exist, how many
//! are spinning (idle, polling the queue, wake-up free), how many are
//! parked (idle, asleep in the idle stack) and how many are in transit
//! (spinners that saw work and are taking it), plus a `CLOSED` bit after
//! which no thread starts. Submitters read it once per task, lock-free;
//! every transition is one read-modify-write, so a reader never sees a
//! worker counted twice or missing in the middle of a change.
//!
//! `spinning` is a count of *tokens*: a spinning worker adds one, and a
//! submitter that relies on a spinner to pick up its task takes one, so two
//! tasks never count on the same spinner. A spinner that sees work turns
//! its token, if one is left, into an *in transit* count until it has
//! popped: a submitter that finds no token but at least as many workers in
//! transit as tasks queued need not start a thread — they will take them.
//! The counts never exceed the workers they count (see
//! `Workers::spinner_found_work`).

use std::sync::atomic::Ordering::SeqCst;

use crossbeam_utils::CachePadded;

use crate::sync::AtomicU64;

const BITS: u32 = 15;
const MASK: u64 = (1 << BITS) - 1;
const THREAD: u64 = 1;
const SPINNING: u64 = 1 << BITS;
const PARKED: u64 = 1 << (2 * BITS);
const TRANSIT: u64 = 1 << (3 * BITS);
const CLOSED: u64 = 1 << 63;

/// The largest `max_threads` the state word can count (with room to spare).
pub const MAX_THREADS: usize = 1 << 14;

/// One reading of the word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(u64);

impl Snapshot {
    /// Threads started and not yet exited (a thread being started counts).
    pub(crate) fn threads(self) -> usize {
        (self.0 & MASK) as usize
    }

    pub(crate) fn spinning(self) -> usize {
        ((self.0 >> BITS) & MASK) as usize
    }

    pub(crate) fn parked(self) -> usize {
        ((self.0 >> (2 * BITS)) & MASK) as usize
    }

    /// Spinners that saw work and are taking it.
    pub(crate) fn transit(self) -> usize {
        ((self.0 >> (3 * BITS)) & MASK) as usize
    }

    /// Idle workers: spinning or parked.
    pub(crate) fn idle(self) -> usize {
        (self.spinning() + self.parked()).min(self.threads())
    }

    pub(crate) fn is_closed(self) -> bool {
        self.0 & CLOSED != 0
    }
}

#[derive(Debug)]
pub(crate) struct Workers {
    word: CachePadded<AtomicU64>,
}

impl Workers {
    pub(crate) fn new() -> Self {
        Self {
            word: CachePadded::new(AtomicU64::new(0)),
        }
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.word.load(SeqCst))
    }

    /// Counts one more thread, if the pool is open and below `max`. The
    /// caller then starts it (or calls [`thread_exited`](Self::thread_exited)
    /// if the OS refuses). A thread started `idle` (not for a task) also
    /// holds a spinning token: its first act is to look at the queue, so a
    /// task may count on it.
    pub(crate) fn try_add_thread(
        &self,
        seen: Snapshot,
        max: usize,
        idle: bool,
    ) -> Result<(), Snapshot> {
        if seen.is_closed() || seen.threads() >= max {
            return Err(seen);
        }
        let add = if idle { THREAD + SPINNING } else { THREAD };
        self.word
            .compare_exchange(seen.0, seen.0 + add, SeqCst, SeqCst)
            .map(drop)
            .map_err(Snapshot)
    }

    /// A thread that was counted has exited (or never started).
    pub(crate) fn thread_exited(&self) {
        self.word.fetch_sub(THREAD, SeqCst);
    }

    /// A worker found the queue empty and starts spinning: one token.
    pub(crate) fn start_spinning(&self) {
        self.word.fetch_add(SPINNING, SeqCst);
    }

    /// Takes back a token if one is left (a thread started idle that the
    /// OS refused).
    pub(crate) fn withdraw_token(&self) {
        let mut word = self.word.load(SeqCst);
        while Snapshot(word).spinning() > 0 {
            match self
                .word
                .compare_exchange_weak(word, word - SPINNING, SeqCst, SeqCst)
            {
                Ok(_) => return,
                Err(now) => word = now,
            }
        }
    }

    /// A spinner saw work: a token left becomes an in-transit count
    /// (`true`; call [`transit_done`](Self::transit_done) after the pop).
    /// No token left (`false`) means submitters took them all, counting on
    /// the spinners: this one is about to serve one of them.
    ///
    /// Why the counts stay at or below the workers they count: only a
    /// spinner adds a token, and each spinner removes at most one as it
    /// leaves, and only while one is left. A leaver that finds none had
    /// its token taken, so it leaves the count no higher than the spinners
    /// that remain.
    pub(crate) fn spinner_found_work(&self) -> bool {
        let mut word = self.word.load(SeqCst);
        while Snapshot(word).spinning() > 0 {
            match self
                .word
                .compare_exchange_weak(word, word - SPINNING + TRANSIT, SeqCst, SeqCst)
            {
                Ok(_) => return true,
                Err(now) => word = now,
            }
        }
        false
    }

    /// The worker in transit has popped (or found the queue empty).
    pub(crate) fn transit_done(&self) {
        self.word.fetch_sub(TRANSIT, SeqCst);
    }

    /// A submitter takes a spinner's token for its task; `false` if the
    /// word changed since `seen` (read it again).
    pub(crate) fn take_spinner(&self, seen: Snapshot) -> bool {
        seen.spinning() > 0
            && self
                .word
                .compare_exchange(seen.0, seen.0 - SPINNING, SeqCst, SeqCst)
                .is_ok()
    }

    /// A spinner parks: its token (if still there) becomes a parked count.
    /// Called under the idle stack's lock, with the push.
    pub(crate) fn spinning_to_parked(&self) {
        let mut word = self.word.load(SeqCst);
        loop {
            let next = if Snapshot(word).spinning() > 0 {
                word - SPINNING + PARKED
            } else {
                word + PARKED
            };
            match self.word.compare_exchange_weak(word, next, SeqCst, SeqCst) {
                Ok(_) => return,
                Err(now) => word = now,
            }
        }
    }

    /// A parked worker was taken out of the idle stack. Under the idle
    /// stack's lock.
    pub(crate) fn unparked(&self) {
        self.word.fetch_sub(PARKED, SeqCst);
    }

    /// A parked worker that saw work before it slept is a spinner again:
    /// its parked count becomes a token, so a submitter that saw it parked
    /// can still count on it. Under the idle stack's lock.
    pub(crate) fn parked_to_spinning(&self) {
        self.word.fetch_sub(PARKED - SPINNING, SeqCst);
    }

    /// A parked worker retires: one parked thread fewer, if more than
    /// `min` threads exist. Under the idle stack's lock.
    pub(crate) fn try_retire_parked(&self, min: usize) -> bool {
        let mut word = self.word.load(SeqCst);
        loop {
            if Snapshot(word).threads() <= min {
                return false;
            }
            match self
                .word
                .compare_exchange_weak(word, word - PARKED - THREAD, SeqCst, SeqCst)
            {
                Ok(_) => return true,
                Err(now) => word = now,
            }
        }
    }

    /// No thread starts from now on.
    pub(crate) fn close(&self) {
        self.word.fetch_or(CLOSED, SeqCst);
    }
}
