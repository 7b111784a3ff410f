//! The [`Strategy`] trait and the strategies that come with the crate.

mod consistent_hash;
mod least_outstanding;
mod p2c;
mod peak_ewma;
mod random;
mod rng;
mod round_robin;
mod score;
mod weighted_p2c;
mod weighted_round_robin;

use std::fmt;

pub use consistent_hash::ConsistentHash;
pub use least_outstanding::LeastOutstanding;
pub use peak_ewma::PeakEwma;
pub use random::Random;
pub use round_robin::RoundRobin;
pub use score::Score;
pub use weighted_p2c::WeightedP2c;
pub use weighted_round_robin::SmoothWeightedRoundRobin;

use crate::context::PickContext;

/// How a [`Balancer`](crate::Balancer) chooses an endpoint.
///
/// `pick` runs on every request, from many threads at once: keep it short
/// and lock-free where the algorithm allows. It returns an index into the
/// context (`0..ctx.len()`), or `None` when no endpoint fits (every one
/// unavailable). An index that is out of range or unavailable is not used:
/// the balancer asks again a few times, then reports
/// [`Error::NoAvailableEndpoint`](crate::Error::NoAvailableEndpoint).
///
/// ```
/// use perfect21_balancer::{Balancer, PickContext, Strategy};
///
/// /// Always the first available endpoint (primary / fallback order).
/// #[derive(Debug)]
/// struct FirstAvailable;
///
/// impl Strategy for FirstAvailable {
///     fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
///         ctx.next_available(0)
///     }
/// }
///
/// let balancer = Balancer::builder()
///     .strategy(FirstAvailable)
///     .endpoints(["primary", "fallback"])
///     .build()
///     .unwrap();
/// assert_eq!(*balancer.pick().unwrap(), "primary");
/// ```
pub trait Strategy: Send + Sync + fmt::Debug + 'static {
    /// Chooses an endpoint index, or `None` if none is available.
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize>;

    /// Whether the strategy needs a key ([`Balancer::pick_with_key`](crate::Balancer::pick_with_key));
    /// a plain [`pick`](crate::Balancer::pick) then fails with
    /// [`Error::KeyRequired`](crate::Error::KeyRequired). Default: `false`.
    fn requires_key(&self) -> bool {
        false
    }
}

impl<S: Strategy + ?Sized> Strategy for Box<S> {
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        (**self).pick(ctx)
    }
    fn requires_key(&self) -> bool {
        (**self).requires_key()
    }
}
