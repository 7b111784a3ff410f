//! The workers' state in one atomic word: how many threads exist, how many
//! are spinning (idle, polling the queue, wake-up free) and how many are
//! parked (idle, asleep in the idle stack), plus a `CLOSED` bit after which
//! no thread starts. Submitters read it once per task, lock-free; every
//! transition is one read-modify-write, so a reader never sees a worker
//! counted twice or missing in the middle of a change.
//!
//! `spinning` is a count of *tokens*: a spinning worker adds one, and a
//! submitter that relies on a spinner to pick up its task takes one, so two
//! tasks never count on the same spinner. A spinner that leaves takes back
//! a token if one is left; the count never exceeds the spinners there are
//! (see `Workers::stop_spinning`).

use std::sync::atomic::Ordering::SeqCst;

use crossbeam_utils::CachePadded;

use crate::sync::AtomicU64;

const BITS: u32 = 20;
const MASK: u64 = (1 << BITS) - 1;
const THREAD: u64 = 1;
const SPINNING: u64 = 1 << BITS;
const PARKED: u64 = 1 << (2 * BITS);
const CLOSED: u64 = 1 << 63;

/// The largest `max_threads` the state word can count (with room to spare).
pub const MAX_THREADS: usize = 1 << 16;

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
    /// if the OS refuses).
    pub(crate) fn try_add_thread(&self, seen: Snapshot, max: usize) -> Result<(), Snapshot> {
        if seen.is_closed() || seen.threads() >= max {
            return Err(seen);
        }
        self.word
            .compare_exchange(seen.0, seen.0 + THREAD, SeqCst, SeqCst)
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

    /// A spinner leaves (work appeared): it takes back a token if one is
    /// left. None left means submitters took them all, counting on the
    /// spinners: this one is about to serve one of them.
    pub(crate) fn stop_spinning(&self) {
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

    /// A parked worker left the idle stack (claimed, or withdrawn). Under
    /// the idle stack's lock.
    pub(crate) fn unparked(&self) {
        self.word.fetch_sub(PARKED, SeqCst);
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
