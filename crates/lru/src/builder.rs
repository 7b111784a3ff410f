//! Builders for both cache forms: every option validated at `build()`, an
//! invalid one refused with an [`Error`] naming it and its allowed range.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use hashbrown::DefaultHashBuilder;

use crate::cache::LruCache;
use crate::clock::{Clock, SystemClock, Timer};
use crate::concurrent::ConcurrentLru;
use crate::core::Limits;
use crate::error::Error;
use crate::list::MAX_NODES;
use crate::stats::EvictionCause;
use crate::weigher::UnitWeigher;

/// The eviction listener, shared by both forms.
pub(crate) type Listener<K, V> = Arc<dyn Fn(K, V, EvictionCause) + Send + Sync>;

/// The options both forms share.
pub(crate) struct Options<K, V, S, W> {
    pub(crate) max_entries: Option<usize>,
    pub(crate) max_weight: Option<u64>,
    pub(crate) ttl: Option<Duration>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hasher: S,
    pub(crate) weigher: W,
    pub(crate) listener: Option<Listener<K, V>>,
    _types: PhantomData<fn(K, V)>,
}

impl<K, V> Options<K, V, DefaultHashBuilder, UnitWeigher> {
    pub(crate) fn new() -> Self {
        Self {
            max_entries: None,
            max_weight: None,
            ttl: None,
            clock: Arc::new(SystemClock),
            hasher: DefaultHashBuilder::default(),
            weigher: UnitWeigher,
            listener: None,
            _types: PhantomData,
        }
    }
}

impl<K, V, S, W> Options<K, V, S, W> {
    /// The same options with the hasher and weigher replaced by `f`'s.
    fn map<S2, W2>(self, f: impl FnOnce(S, W) -> (S2, W2)) -> Options<K, V, S2, W2> {
        let (hasher, weigher) = f(self.hasher, self.weigher);
        Options {
            max_entries: self.max_entries,
            max_weight: self.max_weight,
            ttl: self.ttl,
            clock: self.clock,
            hasher,
            weigher,
            listener: self.listener,
            _types: PhantomData,
        }
    }

    /// Checks every option; the limits for the core.
    pub(crate) fn limits(&self) -> Result<Limits, Error> {
        if self.max_entries.is_none() && self.max_weight.is_none() {
            return Err(Error::Unbounded);
        }
        let max_entries = match self.max_entries {
            Some(n) if (1..=MAX_NODES).contains(&n) => n,
            Some(n) => return Err(Error::out_of_range("max_entries", n, MAX_ENTRIES_RANGE)),
            None => MAX_NODES,
        };
        let max_weight = match self.max_weight {
            Some(0) => {
                return Err(Error::out_of_range(
                    "max_weight",
                    0,
                    "1..=18446744073709551615",
                ));
            }
            Some(w) => w,
            None => u64::MAX,
        };
        if self.ttl.is_some_and(|ttl| ttl.is_zero()) {
            return Err(Error::out_of_range(
                "time_to_live",
                "0ns",
                "a duration above zero",
            ));
        }
        Ok(Limits {
            max_entries,
            max_weight,
            ttl: self.ttl,
        })
    }

    pub(crate) fn timer(&self) -> Timer {
        Timer::new(Arc::clone(&self.clock))
    }
}

impl<K, V, S, W> fmt::Debug for Options<K, V, S, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("max_entries", &self.max_entries)
            .field("max_weight", &self.max_weight)
            .field("time_to_live", &self.ttl)
            .field("listener", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}

/// The range `max_entries` accepts.
pub(crate) const MAX_ENTRIES_RANGE: &str = "1..=4294967294";

/// The setters both builders share.
macro_rules! shared_setters {
    ($builder:ident $(, $field:ident)*) => {
        impl<K, V, S, W> $builder<K, V, S, W> {
            /// At most this many entries (`1..=4294967294`). At least one of
            /// `max_entries` and `max_weight` must be set.
            pub fn max_entries(mut self, max_entries: usize) -> Self {
                self.options.max_entries = Some(max_entries);
                self
            }

            /// At most this much total weight (`1..`), as the weigher
            /// counts it. At least one of `max_entries` and `max_weight`
            /// must be set.
            pub fn max_weight(mut self, max_weight: u64) -> Self {
                self.options.max_weight = Some(max_weight);
                self
            }

            /// Every entry expires this long after it was written (an
            /// update restarts it), unless written with `insert_with_ttl`.
            pub fn time_to_live(mut self, ttl: Duration) -> Self {
                self.options.ttl = Some(ttl);
                self
            }

            /// The clock that decides expiry (default: [`SystemClock`];
            /// tests use [`ManualClock`](crate::ManualClock)).
            pub fn clock(mut self, clock: impl Clock) -> Self {
                self.options.clock = Arc::new(clock);
                self
            }

            /// Called with every entry that leaves without the caller
            /// taking it — evicted for a bound, expired, or dropped by
            /// `clear`/`retain` — after the cache is consistent again. See
            /// the crate docs for what it may do.
            pub fn eviction_listener(
                mut self,
                listener: impl Fn(K, V, EvictionCause) + Send + Sync + 'static,
            ) -> Self {
                self.options.listener = Some(Arc::new(listener));
                self
            }

            /// How entries are weighed against `max_weight` (default:
            /// [`UnitWeigher`], every entry weighs 1).
            pub fn weigher<W2>(self, weigher: W2) -> $builder<K, V, S, W2> {
                $builder {
                    options: self.options.map(|hasher, _| (hasher, weigher)),
                    $($field: self.$field,)*
                }
            }

            /// The hasher for keys (default: hashbrown's, foldhash with a
            /// random seed per cache).
            pub fn hasher<S2>(self, hasher: S2) -> $builder<K, V, S2, W> {
                $builder {
                    options: self.options.map(|_, weigher| (hasher, weigher)),
                    $($field: self.$field,)*
                }
            }
        }
    };
}

/// Builds an [`LruCache`]; from [`LruCache::builder`].
pub struct LruCacheBuilder<K, V, S = DefaultHashBuilder, W = UnitWeigher> {
    options: Options<K, V, S, W>,
}

shared_setters!(LruCacheBuilder);

impl<K, V> LruCacheBuilder<K, V> {
    pub(crate) fn new() -> Self {
        Self {
            options: Options::new(),
        }
    }
}

impl<K, V, S, W> LruCacheBuilder<K, V, S, W> {
    /// The cache, or the first invalid option.
    pub fn build(self) -> Result<LruCache<K, V, S, W>, Error> {
        let limits = self.options.limits()?;
        Ok(LruCache::from_options(self.options, limits))
    }
}

impl<K, V, S, W> fmt::Debug for LruCacheBuilder<K, V, S, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LruCacheBuilder")
            .field("options", &self.options)
            .finish()
    }
}

/// The most shards a [`ConcurrentLru`] may have.
pub(crate) const MAX_SHARDS: usize = 1 << 16;

/// Each shard's share of `max_entries` is kept at least this large by using
/// fewer shards, so that a shard still orders a useful number of entries.
pub(crate) const MIN_SHARD_ENTRIES: usize = 64;

/// Builds a [`ConcurrentLru`]; from [`ConcurrentLru::builder`].
pub struct ConcurrentLruBuilder<K, V, S = DefaultHashBuilder, W = UnitWeigher> {
    options: Options<K, V, S, W>,
    shards: Option<usize>,
}

shared_setters!(ConcurrentLruBuilder, shards);

impl<K, V> ConcurrentLruBuilder<K, V> {
    pub(crate) fn new() -> Self {
        Self {
            options: Options::new(),
            shards: None,
        }
    }
}

impl<K, V, S, W> ConcurrentLruBuilder<K, V, S, W> {
    /// The number of shards: a power of two in `1..=65536`. Default: the
    /// smallest power of two ≥ 4 × the available cores. Fewer are used when
    /// the bounds are small — see [`ConcurrentLru`] for how the bounds are
    /// split.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards);
        self
    }

    /// The cache, or the first invalid option.
    pub fn build(self) -> Result<ConcurrentLru<K, V, S, W>, Error> {
        let limits = self.options.limits()?;
        let requested = match self.shards {
            Some(n) if n.is_power_of_two() && n <= MAX_SHARDS => n,
            Some(n) => {
                return Err(Error::out_of_range(
                    "shards",
                    n,
                    "a power of two in 1..=65536",
                ));
            }
            None => default_shards(),
        };
        let shards = fit_shards(requested, self.options.max_entries, self.options.max_weight);
        Ok(ConcurrentLru::from_options(self.options, limits, shards))
    }
}

impl<K, V, S, W> fmt::Debug for ConcurrentLruBuilder<K, V, S, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrentLruBuilder")
            .field("options", &self.options)
            .field("shards", &self.shards)
            .finish()
    }
}

/// The smallest power of two ≥ 4 × the available cores.
pub(crate) fn default_shards() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    (cores.saturating_mul(4))
        .next_power_of_two()
        .min(MAX_SHARDS)
}

/// Halves `shards` until each shard's share of `max_entries` is at least
/// [`MIN_SHARD_ENTRIES`] and its share of `max_weight` at least 1.
pub(crate) fn fit_shards(
    mut shards: usize,
    max_entries: Option<usize>,
    max_weight: Option<u64>,
) -> usize {
    while shards > 1
        && (max_entries.is_some_and(|n| n / shards < MIN_SHARD_ENTRIES)
            || max_weight.is_some_and(|w| w < shards as u64))
    {
        shards /= 2;
    }
    shards
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_shrink_for_small_bounds() {
        assert_eq!(fit_shards(16, Some(1_000_000), None), 16);
        assert_eq!(fit_shards(16, Some(1000), None), 8);
        assert_eq!(fit_shards(16, Some(100), None), 1);
        assert_eq!(fit_shards(16, None, Some(3)), 2);
        assert_eq!(fit_shards(16, None, Some(u64::MAX)), 16);
    }
}
