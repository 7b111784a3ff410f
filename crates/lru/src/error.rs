//! The crate's error type, and the refusal that hands an entry back.

use std::fmt;

/// What can go wrong configuring a cache.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option's value is outside its allowed range.
    #[error("invalid `{field}`: {value} (allowed: {allowed})")]
    OutOfRange {
        /// The option, as the builder names it (e.g. `max_entries`).
        field: &'static str,
        /// The value given.
        value: String,
        /// The allowed range.
        allowed: String,
    },
    /// Neither `max_entries` nor `max_weight` was set: an unbounded cache is
    /// a memory leak.
    #[error("no bound: set `max_entries`, `max_weight`, or both")]
    Unbounded,
}

impl Error {
    pub(crate) fn out_of_range(
        field: &'static str,
        value: impl fmt::Display,
        allowed: impl fmt::Display,
    ) -> Self {
        Self::OutOfRange {
            field,
            value: value.to_string(),
            allowed: allowed.to_string(),
        }
    }
}

/// An insert refused because the entry alone weighs more than `max_weight`
/// (for [`ConcurrentLru`](crate::ConcurrentLru): more than one shard's share
/// of it). The entry is handed back untouched; the cache is unchanged — an
/// entry already under the key stays.
#[derive(thiserror::Error)]
#[error("entry of weight {weight} refused: the cache's max_weight is {max_weight}")]
pub struct Rejected<K, V> {
    /// The key given to `insert`.
    pub key: K,
    /// The value given to `insert`.
    pub value: V,
    /// What the weigher said the entry weighs.
    pub weight: u64,
    /// The bound it exceeds.
    pub max_weight: u64,
}

impl<K, V> Rejected<K, V> {
    /// The key and value, back.
    pub fn into_inner(self) -> (K, V) {
        (self.key, self.value)
    }
}

impl<K, V> fmt::Debug for Rejected<K, V> {
    // Without the key and value: they may be large or sensitive.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected")
            .field("weight", &self.weight)
            .field("max_weight", &self.max_weight)
            .finish_non_exhaustive()
    }
}
