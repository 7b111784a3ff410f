//! Gets that wait for a capped pool: blocking (`get_timeout`) and async
//! (`get_async`, behind the `async` feature). Both queue a `Waiter` under
//! the shared stack's lock after finding nothing, so a return or a drop that
//! frees a place (which notifies under the same lock) cannot slip between
//! the look and the queueing.

use std::time::{Duration, Instant};

use crate::Error;
use crate::core::{Attempt, Core};
use crate::entry::Boxed;
use crate::shared::{Shared, Waiter};
use crate::sync::lock;

/// One look at a capped pool on behalf of a queued (or queueing) waiter.
enum Look<T> {
    /// An idle object: the waiter left the queue.
    Taken(Boxed<T>),
    /// A place to create one, reserved: the waiter left the queue.
    Create,
    /// Nothing yet: the waiter is queued.
    Queued,
}

impl<T: Send + 'static> Core<T> {
    /// Looks once; on `Full`, puts `waiter` in the queue if it is not there
    /// (back at the front if it was notified, so it keeps its turn).
    fn look(
        &self,
        shared: &mut Shared<T>,
        now: Option<Instant>,
        waiter: &std::sync::Arc<Waiter>,
        queued: &mut bool,
        expired: &mut Vec<Boxed<T>>,
    ) -> Look<T> {
        let was_notified = *queued && waiter.notified();
        if was_notified {
            *queued = false;
        }
        match self.attempt_locked(shared, now, expired) {
            Attempt::Full => {
                if !*queued {
                    waiter.rearm();
                    if was_notified {
                        shared.waiters.push_front(waiter.clone());
                    } else {
                        shared.waiters.push_back(waiter.clone());
                    }
                    *queued = true;
                }
                Look::Queued
            }
            got => {
                if *queued {
                    shared.remove_waiter(waiter);
                    *queued = false;
                }
                match got {
                    Attempt::Taken(entry) => Look::Taken(entry),
                    _ => Look::Create,
                }
            }
        }
    }

    /// The object a successful look got (creating it outside the lock).
    fn take(&self, look: Look<T>) -> Option<Boxed<T>> {
        match look {
            Look::Taken(entry) => Some(entry),
            Look::Create => Some(self.create(None, true)),
            Look::Queued => None,
        }
    }

    /// `get_timeout`: waits up to `timeout` for a capped pool.
    pub(crate) fn acquire_timeout(&self, timeout: Duration) -> Result<Boxed<T>, Error> {
        if self.cfg.max_total.is_none() {
            return self.acquire(self.local());
        }
        let started = Instant::now();
        let deadline = started.checked_add(timeout);
        let waiter = Waiter::thread();
        let mut queued = false;
        let mut parked = false;
        loop {
            let mut expired = Vec::new();
            let now = self.now_for_get(); // user code: before the lock
            let look = {
                let mut shared = lock(self.shared());
                let look = self.look(&mut shared, now, &waiter, &mut queued, &mut expired);
                if matches!(look, Look::Queued) && deadline.is_some_and(|d| Instant::now() >= d) {
                    shared.remove_waiter(&waiter);
                    queued = false;
                    None
                } else {
                    Some(look)
                }
            };
            self.finish_expired(expired);
            match look {
                Some(Look::Queued) => {
                    parked = true;
                    match deadline {
                        Some(deadline) => crate::sync::park_timeout(
                            deadline.saturating_duration_since(Instant::now()),
                        ),
                        None => crate::sync::park(),
                    }
                }
                Some(got) => {
                    if parked {
                        self.record_wait(started.elapsed());
                    }
                    if let Some(entry) = self.take(got) {
                        return Ok(entry);
                    }
                }
                None => {
                    let waited = started.elapsed();
                    // A get that gave up without parking did not wait.
                    if parked {
                        self.record_wait(waited);
                    }
                    self.record_exhausted();
                    return Err(Error::Timeout {
                        waited,
                        max_total: self.cfg.max_total.unwrap_or(usize::MAX),
                    });
                }
            }
        }
    }
}

#[cfg(feature = "async")]
pub(crate) use future::AsyncAcquire;

#[cfg(feature = "async")]
mod future {
    use std::future::Future;
    use std::marker::PhantomData;
    use std::ops::Deref;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};
    use std::time::Instant;

    use super::Look;
    use crate::Error;
    use crate::core::Core;
    use crate::entry::Boxed;
    use crate::shared::Waiter;
    use crate::sync::lock;

    /// Awaits an object from a capped pool without blocking the thread: the
    /// task queues its waker and is woken when an object or a place comes
    /// free. Dropping it gives up its turn and passes on a wake-up it
    /// received but did not use.
    pub(crate) struct AsyncAcquire<C: Deref<Target = Core<T>>, T: Send + 'static> {
        pub(crate) core: C,
        waiter: Option<Arc<Waiter>>,
        queued: bool,
        started: Option<Instant>,
        _object: PhantomData<fn() -> T>,
    }

    impl<C: Deref<Target = Core<T>>, T: Send + 'static> AsyncAcquire<C, T> {
        pub(crate) fn new(core: C) -> Self {
            Self {
                core,
                waiter: None,
                queued: false,
                started: None,
                _object: PhantomData,
            }
        }
    }

    impl<C: Deref<Target = Core<T>>, T: Send + 'static> std::fmt::Debug for AsyncAcquire<C, T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("AsyncAcquire")
                .field("queued", &self.queued)
                .field("started", &self.started)
                .finish_non_exhaustive()
        }
    }

    impl<C: Deref<Target = Core<T>> + Unpin, T: Send + 'static> Future for AsyncAcquire<C, T> {
        type Output = Result<Boxed<T>, Error>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.get_mut();
            let core: &Core<T> = &this.core;
            if core.cfg.max_total.is_none() {
                return Poll::Ready(core.acquire(core.local()));
            }
            let waiter = this.waiter.get_or_insert_with(|| Waiter::task(cx.waker()));
            waiter.set_waker(cx.waker());
            let mut expired = Vec::new();
            let now = core.now_for_get(); // user code: before the lock
            let look = {
                let mut shared = lock(core.shared());
                core.look(&mut shared, now, waiter, &mut this.queued, &mut expired)
            };
            core.finish_expired(expired);
            if matches!(look, Look::Queued) {
                this.started.get_or_insert_with(Instant::now);
                return Poll::Pending;
            }
            if let Some(started) = this.started.take() {
                core.record_wait(started.elapsed());
            }
            this.waiter = None;
            Poll::Ready(core.take(look).ok_or_else(|| core.exhausted()))
        }
    }

    impl<C: Deref<Target = Core<T>>, T: Send + 'static> Drop for AsyncAcquire<C, T> {
        fn drop(&mut self) {
            let Some(waiter) = self.waiter.take() else {
                return;
            };
            if !self.queued {
                return;
            }
            let core: &Core<T> = &self.core;
            let next = {
                let mut shared = lock(core.shared());
                if !shared.remove_waiter(&waiter) && waiter.notified() {
                    // Woken for an object it will never take: pass it on.
                    shared.notify_one()
                } else {
                    None
                }
            };
            if let Some(next) = next {
                next.wake();
            }
        }
    }
}
