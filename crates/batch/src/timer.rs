//! The timer task of [`FlushPolicy::Fixed`](crate::FlushPolicy::Fixed):
//! dispatches a batch when its oldest item has waited `max_wait`. The eager
//! policy has no timer.

use std::sync::Arc;

use crate::shared::{Shared, TimerStep};

/// Runs until the batcher closes.
pub(crate) async fn run<I, O, E>(shared: Arc<Shared<I, O, E>>)
where
    I: Send + 'static,
    O: Send + 'static,
    E: Clone + Send + 'static,
{
    loop {
        match shared.timer_step() {
            TimerStep::Exit => return,
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
