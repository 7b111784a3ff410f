//! What a [`Strategy`](crate::Strategy) sees when it picks.

use std::fmt;
use std::time::Duration;

use crate::set::Cores;
use crate::settings::Settings;

/// A read-only view of the endpoint set at the moment of one pick.
///
/// Indices run from `0` to `len() - 1` in the order endpoints were added
/// (a removal closes the gap). The strategy returns one index; it should
/// prefer indices for which [`is_available`](Self::is_available) holds —
/// the balancer refuses the others and asks again.
pub struct PickContext<'a> {
    pub(crate) cores: &'a dyn Cores,
    pub(crate) now: u64,
    pub(crate) key: Option<u64>,
    pub(crate) settings: &'a Settings,
    /// Panic mode: every endpoint counts as available.
    pub(crate) panic: bool,
}

impl fmt::Debug for PickContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PickContext")
            .field("len", &self.len())
            .field("generation", &self.generation())
            .field("key", &self.key)
            .field("panic", &self.panic)
            .finish()
    }
}

impl PickContext<'_> {
    /// How many endpoints the set holds (available or not).
    #[inline]
    pub fn len(&self) -> usize {
        self.cores.len()
    }

    /// Whether the set is empty (the balancer never asks a strategy then).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.cores.len() == 0
    }

    /// Changes whenever an endpoint is added or removed or a weight changes;
    /// a strategy with per-endpoint state resets it when this moves.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.cores.generation()
    }

    /// The key hash given to [`pick_with_key`](crate::Balancer::pick_with_key),
    /// `None` for [`pick`](crate::Balancer::pick).
    #[inline]
    pub fn key(&self) -> Option<u64> {
        self.key
    }

    /// Whether endpoint `index` can take a request now: healthy, or its
    /// ejection is over and its probation probe slot is free — or any
    /// endpoint in panic mode (see [`is_panic`](Self::is_panic)).
    #[inline]
    pub fn is_available(&self, index: usize) -> bool {
        index < self.len() && (self.panic || self.cores.core(index).is_available(self.now))
    }

    /// Whether the balancer is in panic mode: fewer than
    /// [`panic_threshold_percent`](crate::BalancerBuilder::panic_threshold_percent)
    /// of the endpoints are healthy, so every endpoint counts as available.
    #[inline]
    pub fn is_panic(&self) -> bool {
        self.panic
    }

    /// Requests picked from endpoint `index` and not yet resolved.
    #[inline]
    pub fn in_flight(&self, index: usize) -> u64 {
        self.cores
            .core(index)
            .in_flight
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The weight of endpoint `index` (1 unless set).
    #[inline]
    pub fn weight(&self, index: usize) -> u32 {
        self.cores
            .core(index)
            .weight
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The sum of all weights.
    #[inline]
    pub fn total_weight(&self) -> u64 {
        self.cores.cumulative_weights().last().copied().unwrap_or(0)
    }

    /// The endpoint that owns point `point` of the weight line
    /// `0..total_weight()`: sampling a uniform `point` picks each endpoint
    /// with probability weight ÷ total (binary search, O(log n)).
    #[inline]
    pub fn index_by_weight(&self, point: u64) -> usize {
        let cumulative = self.cores.cumulative_weights();
        let index = cumulative.partition_point(|&sum| sum <= point);
        index.min(self.len().saturating_sub(1))
    }

    /// The peak-EWMA round-trip estimate of endpoint `index`, decayed
    /// toward zero since its last sample (the default RTT before the
    /// first). Failures count as at least the failure penalty.
    #[inline]
    pub fn rtt_estimate(&self, index: usize) -> Duration {
        Duration::from_nanos(self.rtt_estimate_nanos(index) as u64)
    }

    /// [`rtt_estimate`](Self::rtt_estimate) in nanoseconds, as a float.
    #[inline]
    pub fn rtt_estimate_nanos(&self, index: usize) -> f64 {
        self.cores.core(index).rtt_estimate(self.now, self.settings)
    }

    /// The stored estimate and the time of its last sample (nanoseconds
    /// since the balancer's epoch), undecayed.
    #[inline]
    pub(crate) fn rtt_sample(&self, index: usize) -> (f64, u64) {
        self.cores.core(index).rtt_sample()
    }

    /// The failure count of endpoint `index`, each failure decaying with
    /// the EWMA decay time (1 right after a failure, ~0.37 one decay later).
    #[inline]
    pub fn recent_failures(&self, index: usize) -> f64 {
        self.cores
            .core(index)
            .recent_failures(self.now, self.settings)
    }

    /// A stable hash of endpoint `index`'s value (for hashing strategies).
    #[inline]
    pub fn endpoint_hash(&self, index: usize) -> u64 {
        self.cores.core(index).id_hash
    }

    /// The first available index at or after `start`, wrapping around.
    /// It hands an unavailable endpoint's whole share to the next one, which
    /// suits a primary / fallback order; to spread the share, use
    /// [`random_available`](Self::random_available).
    pub fn next_available(&self, start: usize) -> Option<usize> {
        let len = self.len();
        (0..len)
            .map(|offset| (start % len.max(1) + offset) % len)
            .find(|&index| self.is_available(index))
    }

    /// An available endpoint drawn uniformly from `random` (64 random
    /// bits), or `None` if none is available. O(n): for the fallback when
    /// a cheaper draw landed on an unavailable endpoint.
    pub fn random_available(&self, random: u64) -> Option<usize> {
        self.draw_available(random, |_| 1)
    }

    /// An available endpoint drawn from `random` (64 random bits) with
    /// probability weight ÷ the available endpoints' total weight, or
    /// `None` if none is available. O(n).
    pub fn random_available_by_weight(&self, random: u64) -> Option<usize> {
        self.draw_available(random, |index| u64::from(self.weight(index)))
    }

    fn draw_available(&self, random: u64, weight: impl Fn(usize) -> u64) -> Option<usize> {
        let available = |index: &usize| self.is_available(*index);
        let total: u64 = (0..self.len()).filter(available).map(&weight).sum();
        if total == 0 {
            return None;
        }
        let mut point = ((u128::from(random) * u128::from(total)) >> 64) as u64;
        for index in (0..self.len()).filter(available) {
            let w = weight(index);
            if point < w {
                return Some(index);
            }
            point -= w;
        }
        None
    }
}
