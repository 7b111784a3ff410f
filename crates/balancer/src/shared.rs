//! The balancer-wide state every endpoint points to: clock, options,
//! totals and the outlier lock.

use std::sync::atomic::AtomicU64;

use parking_lot::Mutex;

use crate::clock::Timeline;
use crate::settings::Settings;

/// Balancer-wide state shared by the balancer, its endpoints and guards.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) timeline: Timeline,
    pub(crate) settings: Settings,
    pub(crate) totals: Totals,
    /// Serialises ejections and returns, and guards the counts below.
    pub(crate) outlier: Mutex<OutlierCounts>,
}

/// How many endpoints the set holds and how many are ejected (or on
/// probation); changed under the outlier lock.
#[derive(Debug, Default)]
pub(crate) struct OutlierCounts {
    pub(crate) endpoints: usize,
    pub(crate) ejected: usize,
}

/// Balancer-level counters (they include endpoints since removed).
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) requests: AtomicU64,
    pub(crate) successes: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) unavailable: AtomicU64,
    pub(crate) ejections: AtomicU64,
}
