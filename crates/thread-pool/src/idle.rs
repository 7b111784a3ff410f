//! The stack of parked workers. Last in, first out: the worker that parked
//! most recently is woken first, so under a light load the same few threads
//! do the work and the others stay asleep long enough to reach `keep_alive`
//! and retire. (A FIFO or broadcast wake-up touches every thread now and
//! then, and the pool never shrinks.)
//!
//! Its lock is taken only when a worker parks, is woken or retires — never
//! on the path of a task that finds a running or spinning worker. The
//! `parked` field of the state word changes only under this lock, together
//! with the stack, so it always equals the stack's length.

use std::sync::Arc;

use crate::parker::Parker;
use crate::state::Workers;
use crate::sync::{self, Mutex};

/// What [`IdleStack::withdraw`] and [`IdleStack::retire`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leave {
    /// The worker was still in the stack and has left it.
    Left,
    /// A submitter (or shutdown) took it out: a token is on its way.
    Claimed,
    /// `retire` only: the worker stays (the pool is at `min_threads`).
    Stayed,
}

#[derive(Debug)]
pub(crate) struct IdleStack {
    stack: Mutex<Vec<Arc<Parker>>>,
}

impl IdleStack {
    pub(crate) fn new() -> Self {
        Self {
            stack: Mutex::new(Vec::new()),
        }
    }

    /// A spinning worker parks: onto the stack, its token turned into a
    /// parked count.
    pub(crate) fn push(&self, me: &Arc<Parker>, workers: &Workers) {
        let mut stack = sync::lock(&self.stack);
        stack.push(Arc::clone(me));
        workers.spinning_to_parked();
    }

    /// Takes the most recently parked worker out; the caller unparks it.
    pub(crate) fn claim(&self, workers: &Workers) -> Option<Arc<Parker>> {
        let mut stack = sync::lock(&self.stack);
        let worker = stack.pop()?;
        workers.unparked();
        Some(worker)
    }

    /// Takes every parked worker out (shutdown); the caller unparks them.
    pub(crate) fn claim_all(&self, workers: &Workers) -> Vec<Arc<Parker>> {
        let mut stack = sync::lock(&self.stack);
        for _ in 0..stack.len() {
            workers.unparked();
        }
        std::mem::take(&mut *stack)
    }

    /// A parked worker leaves on its own (work appeared before it slept),
    /// going back to spinning with a token.
    pub(crate) fn withdraw(&self, me: &Arc<Parker>, workers: &Workers) -> Leave {
        let mut stack = sync::lock(&self.stack);
        match position(&stack, me) {
            Some(at) => {
                stack.remove(at);
                workers.parked_to_spinning();
                Leave::Left
            }
            None => Leave::Claimed,
        }
    }

    /// A parked worker whose keep-alive ran out retires, if it is still in
    /// the stack and more than `min` threads exist.
    pub(crate) fn retire(&self, me: &Arc<Parker>, workers: &Workers, min: usize) -> Leave {
        let mut stack = sync::lock(&self.stack);
        let Some(at) = position(&stack, me) else {
            return Leave::Claimed;
        };
        if !workers.try_retire_parked(min) {
            return Leave::Stayed;
        }
        stack.remove(at);
        Leave::Left
    }
}

fn position(stack: &[Arc<Parker>], me: &Arc<Parker>) -> Option<usize> {
    stack.iter().rposition(|worker| Arc::ptr_eq(worker, me))
}
