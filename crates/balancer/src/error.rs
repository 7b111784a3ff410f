//! The crate's one error type.

/// What went wrong, in the caller's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A builder option is out of range; `field` names it.
    #[error("invalid balancer option `{field}`: {reason}")]
    InvalidConfig {
        /// The builder method / option name.
        field: &'static str,
        /// The allowed range.
        reason: &'static str,
    },
    /// The endpoint set is empty.
    #[error("the balancer has no endpoints")]
    NoEndpoints,
    /// Every endpoint is ejected (or on probation with its one probe in
    /// flight); retry later.
    #[error("every endpoint is ejected or busy with its probation probe")]
    NoAvailableEndpoint,
    /// The strategy picks by key ([`ConsistentHash`](crate::ConsistentHash)):
    /// call [`pick_with_key`](crate::Balancer::pick_with_key).
    #[error("this strategy picks by key: call pick_with_key")]
    KeyRequired,
    /// [`add`](crate::Balancer::add) of an endpoint that is already in the set.
    #[error("the endpoint is already in the set")]
    DuplicateEndpoint,
    /// [`remove`](crate::Balancer::remove) or
    /// [`set_weight`](crate::Balancer::set_weight) of an endpoint that is
    /// not in the set.
    #[error("the endpoint is not in the set")]
    UnknownEndpoint,
    /// A weight of zero.
    #[error("an endpoint weight must be at least 1")]
    InvalidWeight,
}
