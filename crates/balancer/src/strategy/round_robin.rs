use std::sync::atomic::{AtomicUsize, Ordering};

use super::Strategy;
use crate::context::PickContext;

/// Each endpoint in turn, skipping unavailable ones; ignores weights and
/// load. The baseline the other strategies are measured against.
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
        let index = self.next.fetch_add(1, Ordering::Relaxed) % ctx.len().max(1);
        if ctx.is_available(index) {
            Some(index)
        } else {
            ctx.next_available(index)
        }
    }
}
