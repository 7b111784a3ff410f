//! An immutable snapshot of the endpoint set. Pickers load the current
//! snapshot through an `ArcSwap` (no lock); writers build a new one.

use std::sync::Arc;

use crate::endpoint::Core;
use crate::shared::Shared;

/// One endpoint: the caller's value and its shared state.
#[derive(Debug)]
pub(crate) struct Endpoint<E> {
    pub(crate) value: E,
    pub(crate) core: Core,
    /// The balancer-wide part guards need (clock, options, totals).
    pub(crate) shared: Arc<Shared>,
}

/// A snapshot of the endpoint set.
#[derive(Debug)]
pub(crate) struct EndpointSet<E> {
    pub(crate) endpoints: Vec<Arc<Endpoint<E>>>,
    /// Running sum of the weights, for weighted sampling.
    pub(crate) cumulative_weights: Vec<u64>,
    /// Bumped on every change of the set or of a weight.
    pub(crate) generation: u64,
}

impl<E> EndpointSet<E> {
    pub(crate) fn new(endpoints: Vec<Arc<Endpoint<E>>>, generation: u64) -> Self {
        let mut sum = 0u64;
        let cumulative_weights = endpoints
            .iter()
            .map(|endpoint| {
                sum += u64::from(
                    endpoint
                        .core
                        .weight
                        .load(std::sync::atomic::Ordering::Relaxed),
                );
                sum
            })
            .collect();
        Self {
            endpoints,
            cumulative_weights,
            generation,
        }
    }
}

/// What a [`PickContext`](crate::PickContext) reads: the endpoints' states
/// without their (generic) values.
pub(crate) trait Cores: Sync {
    fn len(&self) -> usize;
    fn core(&self, index: usize) -> &Core;
    fn cumulative_weights(&self) -> &[u64];
    fn generation(&self) -> u64;
}

impl<E: Send + Sync> Cores for EndpointSet<E> {
    #[inline]
    fn len(&self) -> usize {
        self.endpoints.len()
    }
    #[inline]
    fn core(&self, index: usize) -> &Core {
        &self.endpoints[index].core
    }
    #[inline]
    fn cumulative_weights(&self) -> &[u64] {
        &self.cumulative_weights
    }
    #[inline]
    fn generation(&self) -> u64 {
        self.generation
    }
}
