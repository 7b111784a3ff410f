//! The timer task of [`FlushPolicy::Fixed`](crate::FlushPolicy::Fixed):
//! dispatches a batch when its oldest item has waited `max_wait`. The eager
//! policy has no timer.

use std::future::Future;
use std::sync::Arc;

use crate::shared::{Shared, TimerStep};

/// Runs until the batcher closes. The guard is made before the task is
/// first polled, so a runtime that shuts down before running it is noticed
/// too.
pub(crate) fn run<I, O, E>(shared: Arc<Shared<I, O, E>>) -> impl Future<Output = ()> + Send
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    /// Dropped with the task: unless the timer exited, the runtime shut
    /// down under it, and queued items would wait for it for ever.
    struct Running<I, O, E>(Arc<Shared<I, O, E>>, bool)
    where
        I: Send + 'static,
        O: Send + 'static,
        E: Clone + Send + 'static;
    impl<I, O, E> Drop for Running<I, O, E>
    where
        I: Send + 'static,
        O: Send + 'static,
        E: Clone + Send + 'static,
    {
        fn drop(&mut self) {
            if !self.1 {
                self.0.runtime_lost();
            }
        }
    }
    impl<I, O, E> Running<I, O, E>
    where
        I: Send + 'static,
        O: Send + 'static,
        E: Clone + Send + 'static,
    {
        fn exited(&mut self) {
            self.1 = true;
        }
    }
    let mut running = Running(shared, false);
    async move {
        let shared = Arc::clone(&running.0);
        loop {
            match shared.timer_step() {
                TimerStep::Exit => return running.exited(),
                TimerStep::Sleep(None) => shared.timer.notified().await,
                TimerStep::Sleep(Some(deadline)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline) => {}
                        () = shared.timer.notified() => {}
                    }
                }
            }
        }
    }
}
