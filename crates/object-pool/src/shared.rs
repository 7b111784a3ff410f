//! The shared stack behind the thread caches, and the queue of gets waiting
//! on a capped pool. Both sit under one mutex; no user code ever runs while
//! it is held.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::entry::Boxed;
use crate::sync::{AtomicBool, Thread};

/// What the mutex guards.
#[derive(Debug)]
pub(crate) struct Shared<T> {
    /// Idle objects: taken and returned at the back (LIFO keeps hot objects
    /// hot), trimmed from the front. Add with `push`/`extend` only, so
    /// `oldest` stays a lower bound.
    pub(crate) stack: VecDeque<Boxed<T>>,
    /// No object in `stack` went idle before this (`None`: none has an
    /// idle time). Removing objects keeps it a lower bound; `expire`
    /// makes it exact again.
    oldest: Option<Instant>,
    /// Capped pools: objects alive (in use + idle) plus creations under way.
    pub(crate) live: usize,
    /// Capped pools: gets waiting for an object, first come first served.
    pub(crate) waiters: VecDeque<Arc<Waiter>>,
}

impl<T> Shared<T> {
    pub(crate) fn new() -> Self {
        Self {
            stack: VecDeque::new(),
            oldest: None,
            live: 0,
            waiters: VecDeque::new(),
        }
    }

    /// Puts an idle object on top of the stack.
    pub(crate) fn push(&mut self, entry: Boxed<T>) {
        self.note_idle_since(&entry);
        self.stack.push_back(entry);
    }

    /// Puts idle objects on top of the stack, in order. They may have gone
    /// idle before objects already here (a flushed or spilled cache).
    pub(crate) fn extend(&mut self, entries: impl IntoIterator<Item = Boxed<T>>) {
        for entry in entries {
            self.push(entry);
        }
    }

    fn note_idle_since(&mut self, entry: &Boxed<T>) {
        if let Some(since) = entry.idle_since
            && self.oldest.is_none_or(|oldest| since < oldest)
        {
            self.oldest = Some(since);
        }
    }

    /// Moves every expired object, wherever it sits in the stack, into
    /// `out`; returns how many. The stack is not ordered by age (flushes
    /// and spills append older objects on top), so this looks at all of
    /// them, but only when `oldest` says one may have expired.
    pub(crate) fn expire(
        &mut self,
        now: Instant,
        timeout: Duration,
        out: &mut Vec<Boxed<T>>,
    ) -> usize {
        let may_have_expired = self
            .oldest
            .is_some_and(|oldest| now.saturating_duration_since(oldest) >= timeout);
        if !may_have_expired {
            return 0;
        }
        let before = out.len();
        self.oldest = None;
        let all = std::mem::take(&mut self.stack);
        for entry in all {
            if entry.expired(now, timeout) {
                out.push(entry);
            } else {
                self.push(entry);
            }
        }
        out.len() - before
    }

    /// Pops the first waiter, if any, and marks it notified: something came
    /// free. The caller wakes it (`Waiter::wake`) after unlocking, so no
    /// waker runs under the pool's mutex.
    #[must_use = "wake the waiter after unlocking"]
    pub(crate) fn notify_one(&mut self) -> Option<Arc<Waiter>> {
        let waiter = self.waiters.pop_front()?;
        waiter
            .notified
            .store(true, std::sync::atomic::Ordering::Release);
        Some(waiter)
    }

    /// Takes `waiter` out of the queue; true if it was there.
    pub(crate) fn remove_waiter(&mut self, waiter: &Arc<Waiter>) -> bool {
        let before = self.waiters.len();
        self.waiters.retain(|w| !Arc::ptr_eq(w, waiter));
        before != self.waiters.len()
    }
}

/// A get waiting for a capped pool: a blocked thread or an async task.
/// `notified` is set (under the pool's mutex) when it is popped off the
/// queue for an object that came free.
#[derive(Debug)]
pub(crate) struct Waiter {
    notified: AtomicBool,
    wake: WakeBy,
}

#[derive(Debug)]
enum WakeBy {
    Thread(Thread),
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    Task(std::sync::Mutex<Option<Waker>>),
}

impl Waiter {
    pub(crate) fn thread() -> Arc<Self> {
        Arc::new(Self {
            notified: Default::default(),
            wake: WakeBy::Thread(crate::sync::current_thread()),
        })
    }

    #[cfg(feature = "async")]
    pub(crate) fn task(waker: &Waker) -> Arc<Self> {
        Arc::new(Self {
            notified: Default::default(),
            wake: WakeBy::Task(std::sync::Mutex::new(Some(waker.clone()))),
        })
    }

    /// Whether it was popped off the queue by `notify_one`.
    pub(crate) fn notified(&self) -> bool {
        self.notified.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Clears the flag before the waiter queues again.
    pub(crate) fn rearm(&self) {
        self.notified
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }

    /// Replaces the task's waker (async waiters are polled with new ones).
    #[cfg(feature = "async")]
    pub(crate) fn set_waker(&self, waker: &Waker) {
        if let WakeBy::Task(slot) = &self.wake {
            let mut slot = slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match slot.as_ref() {
                Some(current) if current.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        }
    }

    /// Wakes the thread or task (after `notify_one` picked it).
    pub(crate) fn wake(&self) {
        match &self.wake {
            WakeBy::Thread(thread) => thread.unpark(),
            WakeBy::Task(slot) => {
                let waker = slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }
    }
}
