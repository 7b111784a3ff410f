//! One endpoint's shared state: the counters, the latency estimate and the
//! outlier-detection state. Lives in an `Arc` that every snapshot of the set
//! and every guard of the endpoint share, so counts survive a rebuild of the
//! set and a guard only ever touches its own endpoint.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::settings::Settings;

pub(crate) const HEALTHY: u8 = 0;
pub(crate) const EJECTED: u8 = 1;
pub(crate) const PROBATION: u8 = 2;

/// Counters and state of one endpoint (everything but its value).
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) in_flight: AtomicU64,
    pub(crate) successes: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) weight: AtomicU32,
    /// Hash of the endpoint value (consistent hashing).
    pub(crate) id_hash: u64,
    latency: Latency,
    // Outlier detection. `state`, `until` and `probe` are read lock-free by
    // pickers; every change of `state` happens under the balancer's
    // outlier lock.
    pub(crate) state: AtomicU8,
    pub(crate) until: AtomicU64,
    pub(crate) probe: AtomicBool,
    pub(crate) consecutive_failures: AtomicU32,
    pub(crate) times_ejected: AtomicU64,
    /// Ejection-time multiplier and when the endpoint last returned
    /// (guarded by the outlier lock).
    pub(crate) book: Mutex<OutlierBook>,
    pub(crate) removed: AtomicBool,
}

/// Ejection bookkeeping, changed only on the rare path.
#[derive(Debug, Default)]
pub(crate) struct OutlierBook {
    pub(crate) multiplier: u32,
    pub(crate) healthy_since: u64,
}

impl Core {
    pub(crate) fn new(weight: u32, id_hash: u64, now: u64, settings: &Settings) -> Self {
        Self {
            in_flight: AtomicU64::new(0),
            successes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            weight: AtomicU32::new(weight),
            id_hash,
            latency: Latency::new(settings.default_rtt_ns, now),
            state: AtomicU8::new(HEALTHY),
            until: AtomicU64::new(0),
            probe: AtomicBool::new(false),
            consecutive_failures: AtomicU32::new(0),
            times_ejected: AtomicU64::new(0),
            book: Mutex::new(OutlierBook {
                multiplier: 0,
                healthy_since: now,
            }),
            removed: AtomicBool::new(false),
        }
    }

    /// Can a pick at `now` use this endpoint (healthy, or an ejection that
    /// is over / a probation whose probe slot is free)?
    #[inline]
    pub(crate) fn is_available(&self, now: u64) -> bool {
        match self.state.load(Ordering::Acquire) {
            HEALTHY => true,
            EJECTED => {
                now >= self.until.load(Ordering::Acquire) && !self.probe.load(Ordering::Acquire)
            }
            _ => !self.probe.load(Ordering::Acquire),
        }
    }

    /// Takes the endpoint for one request: `Some(false)` for a normal
    /// request, `Some(true)` for the probation probe, `None` when it is
    /// ejected or its probe slot is taken. `Some(true)` from an ejected
    /// endpoint also moves it to probation (returned as the second value).
    /// In panic mode an endpoint that cannot take the probe takes a normal
    /// request instead of refusing.
    #[inline]
    pub(crate) fn try_acquire(&self, now: u64, panic: bool) -> Option<(bool, bool)> {
        let state = self.state.load(Ordering::Acquire);
        if state == HEALTHY {
            return Some((false, false));
        }
        let normal = panic.then_some((false, false));
        if state == EJECTED && now < self.until.load(Ordering::Acquire) {
            return normal;
        }
        if self
            .probe
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return normal;
        }
        let admitted = state == EJECTED
            && self
                .state
                .compare_exchange(EJECTED, PROBATION, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
        Some((true, admitted))
    }

    pub(crate) fn is_ejected(&self) -> bool {
        self.state.load(Ordering::Acquire) != HEALTHY
    }

    /// The peak-EWMA round-trip estimate at `now`, in nanoseconds, decayed
    /// toward zero since its last sample (as tower and Finagle do, so an
    /// idle endpoint is eventually tried again).
    #[inline]
    pub(crate) fn rtt_estimate(&self, now: u64, settings: &Settings) -> f64 {
        self.latency.rtt_at(now, settings.decay_ns)
    }

    /// The stored estimate and its timestamp, undecayed.
    #[inline]
    pub(crate) fn rtt_sample(&self) -> (f64, u64) {
        (
            f64::from_bits(self.latency.rtt_bits.load(Ordering::Relaxed)),
            self.latency.rtt_at.load(Ordering::Relaxed),
        )
    }

    /// The failure count decayed with the EWMA decay time.
    #[inline]
    pub(crate) fn recent_failures(&self, now: u64, settings: &Settings) -> f64 {
        self.latency.failures_at(now, settings.decay_ns)
    }

    /// The last estimate, not decayed (for stats).
    pub(crate) fn rtt_last(&self) -> f64 {
        f64::from_bits(self.latency.rtt_bits.load(Ordering::Relaxed))
    }

    /// Records one completed request's latency (`failed` feeds at least the
    /// failure penalty and counts a failure).
    pub(crate) fn observe(&self, now: u64, latency_ns: u64, failed: bool, settings: &Settings) {
        self.latency.observe(now, latency_ns, failed, settings);
    }
}

/// Peak-sensitive EWMA of the round trip plus a decaying failure count,
/// in relaxed atomics with no lock: it is a routing heuristic, so when two
/// completions of one endpoint race, one sample may be lost, and a reader
/// may pair a value with the neighbouring timestamp (skewing one decay
/// slightly). Counters, which must be exact, are separate.
#[derive(Debug)]
struct Latency {
    rtt_bits: AtomicU64,
    rtt_at: AtomicU64,
    failures_bits: AtomicU64,
    failures_at: AtomicU64,
}

fn decay_factor(elapsed_ns: u64, decay_ns: f64) -> f64 {
    (-(elapsed_ns as f64) / decay_ns).exp()
}

impl Latency {
    fn new(default_rtt_ns: f64, now: u64) -> Self {
        Self {
            rtt_bits: AtomicU64::new(default_rtt_ns.to_bits()),
            rtt_at: AtomicU64::new(now),
            failures_bits: AtomicU64::new(0f64.to_bits()),
            failures_at: AtomicU64::new(now),
        }
    }

    #[inline]
    fn rtt_at(&self, now: u64, decay_ns: f64) -> f64 {
        let rtt = f64::from_bits(self.rtt_bits.load(Ordering::Relaxed));
        let at = self.rtt_at.load(Ordering::Relaxed);
        rtt * decay_factor(now.saturating_sub(at), decay_ns)
    }

    #[inline]
    fn failures_at(&self, now: u64, decay_ns: f64) -> f64 {
        let failures = f64::from_bits(self.failures_bits.load(Ordering::Relaxed));
        if failures == 0.0 {
            return 0.0;
        }
        let at = self.failures_at.load(Ordering::Relaxed);
        failures * decay_factor(now.saturating_sub(at), decay_ns)
    }

    fn observe(&self, now: u64, latency_ns: u64, failed: bool, settings: &Settings) {
        let mut sample = latency_ns as f64;
        if failed {
            sample = sample.max(settings.failure_penalty_ns);
        }
        let stored = f64::from_bits(self.rtt_bits.load(Ordering::Relaxed));
        let at = self.rtt_at.load(Ordering::Relaxed);
        let decay = decay_factor(now.saturating_sub(at), settings.decay_ns);
        let current = stored * decay;
        // Peak-sensitive: a slower sample replaces the estimate at once;
        // a faster one blends in with weight 1 − decay.
        let next = if sample > current {
            sample
        } else {
            current + sample * (1.0 - decay)
        };
        self.rtt_bits.store(next.to_bits(), Ordering::Relaxed);
        self.rtt_at.store(now.max(at), Ordering::Relaxed);
        if failed {
            let next = self.failures_at(now, settings.decay_ns) + 1.0;
            self.failures_bits.store(next.to_bits(), Ordering::Relaxed);
            self.failures_at.store(now, Ordering::Relaxed);
        }
    }
}
