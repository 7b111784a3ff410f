//! The cache's side of the local tier: every L1 access of [`RedisCache`]
//! goes through here, and compiles to nothing without feature `local`.
//!
//! The rules (the mechanism is in `local/`):
//! - a read that may fill L1 takes a [`Fence`] *before* it asks Redis and
//!   fills only if no invalidation of its key arrived since;
//! - a write never fills L1; after its reply it evicts the keys it wrote
//!   here at once (so this instance reads its own writes), and Redis's
//!   invalidation messages evict them everywhere else.

use serde::de::DeserializeOwned;

use crate::cache::RedisCache;
use crate::codec::Codec;
use crate::fetch::Lifetime;
#[cfg(feature = "local")]
use crate::stats::Count;

#[cfg(feature = "local")]
pub(crate) use crate::local::Fence;

/// Without feature `local` no read ever fills L1.
#[cfg(not(feature = "local"))]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fence;

/// What a write changed.
#[cfg_attr(not(feature = "local"), allow(dead_code))]
pub(crate) enum Changed<'a> {
    Keys(&'a [String]),
    All,
}

impl<C: Codec> RedisCache<C> {
    /// Whether a local tier is configured (its L1 needs the full keys).
    pub(crate) fn has_local(&self) -> bool {
        #[cfg(feature = "local")]
        return self.inner.local.is_some();
        #[cfg(not(feature = "local"))]
        false
    }

    /// A value from the local tier, decoded; a value that does not decode
    /// is dropped from L1 and read from Redis instead.
    #[cfg_attr(not(feature = "local"), allow(unused_variables))]
    pub(crate) fn read_l1<T: DeserializeOwned>(&self, full_key: &str) -> Option<T> {
        #[cfg(feature = "local")]
        if let Some(local) = &self.inner.local {
            let bytes = local.get(full_key)?;
            return match self.inner.framing.decode(&self.inner.codec, &bytes) {
                Ok(value) => {
                    self.inner.counters.add(Count::LocalHits, 1);
                    Some(value)
                }
                Err(_) => {
                    local.forget(full_key);
                    None
                }
            };
        }
        None
    }

    /// The fence a read of `full_key` takes before it asks Redis; `None`
    /// when the read must not fill L1 (no local tier, or the invalidation
    /// stream is down).
    #[cfg_attr(not(feature = "local"), allow(unused_variables))]
    pub(crate) fn l1_fence(&self, full_key: &str) -> Option<Fence> {
        #[cfg(feature = "local")]
        if let Some(local) = &self.inner.local {
            return local.fence(full_key);
        }
        None
    }

    /// Fills L1 with what Redis answered for `full_key`, for no longer than
    /// Redis keeps it (`lifetime`), unless `fence` was crossed by an
    /// invalidation since it was taken.
    #[cfg_attr(not(feature = "local"), allow(unused_variables))]
    pub(crate) fn l1_fill(
        &self,
        fence: Option<Fence>,
        full_key: &str,
        bytes: &[u8],
        lifetime: Lifetime,
    ) {
        #[cfg(feature = "local")]
        if let (Some(local), Some(fence)) = (&self.inner.local, fence) {
            let remaining = lifetime.remaining(std::time::Instant::now());
            local.fill(fence, full_key, bytes, remaining);
        }
    }

    /// Fetches `full_keys` for a read that may fill L1 (`fenced`): with
    /// each value's [`Lifetime`] then, as [`Lifetime::Forever`] (unused)
    /// otherwise.
    pub(crate) async fn fetch_for_l1(
        &self,
        full_keys: &[&String],
        fenced: bool,
    ) -> crate::error::Result<Vec<(Option<Vec<u8>>, Lifetime)>> {
        if fenced {
            return self.fetch_many_lived(full_keys).await;
        }
        let values = match full_keys {
            [one] => vec![self.fetch_one(*one).await?],
            many => self.fetch_many(many).await?,
        };
        Ok(values.into_iter().map(|v| (v, Lifetime::Forever)).collect())
    }

    /// Evicts what a write changed from this instance's L1, and voids the
    /// fences of reads in flight for it.
    #[cfg_attr(not(feature = "local"), allow(unused_variables))]
    pub(crate) fn l1_forget(&self, changed: Changed<'_>) {
        #[cfg(feature = "local")]
        if let Some(local) = &self.inner.local {
            match changed {
                Changed::Keys(keys) => keys.iter().for_each(|k| local.forget(k)),
                Changed::All => local.forget_all(),
            }
        }
    }
}
