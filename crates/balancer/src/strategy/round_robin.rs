use std::sync::atomic::{AtomicUsize, Ordering};

use super::Strategy;
use crate::context::PickContext;

/// Each endpoint in turn, skipping unavailable ones; ignores weights and
/// load. The baseline the other strategies are measured against.
///
/// An unavailable endpoint's turn goes to the next turn of the count, not
/// to its neighbour: each available endpoint keeps one turn per round, so
/// an ejected endpoint's share is spread evenly over the others.
#[derive(Debug, Default)]
pub struct RoundRobin {
    next: AtomicUsize,
}

impl RoundRobin {
    /// A round robin starting at the first endpoint.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Strategy for RoundRobin {
    #[inline]
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        let len = ctx.len().max(1);
        (0..len)
            .map(|_| self.next.fetch_add(1, Ordering::Relaxed) % len)
            .find(|&index| ctx.is_available(index))
    }
}
