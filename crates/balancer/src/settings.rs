//! The validated options every endpoint and guard reads.

/// Outlier-detection options (validated).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutlierSettings {
    pub(crate) consecutive_failures: u32,
    pub(crate) base_ejection_ns: u64,
    pub(crate) max_ejection_ns: u64,
    pub(crate) max_ejection_percent: u32,
    pub(crate) panic_threshold_percent: u32,
}

impl OutlierSettings {
    /// How many endpoints of `endpoints` may be ejected at once: the
    /// percentage, rounded down, but at least one — except at 0 %, which
    /// ejects none.
    pub(crate) fn max_ejected(&self, endpoints: usize) -> usize {
        if self.max_ejection_percent == 0 {
            return 0;
        }
        (endpoints.saturating_mul(self.max_ejection_percent as usize) / 100).max(1)
    }

    /// The ejection time for the `multiplier`-th ejection in a row.
    pub(crate) fn ejection_ns(&self, multiplier: u32) -> u64 {
        self.base_ejection_ns
            .saturating_mul(u64::from(multiplier.max(1)))
            .min(self.max_ejection_ns)
    }
}

/// Options shared by the whole balancer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) outlier: Option<OutlierSettings>,
    pub(crate) default_rtt_ns: f64,
    pub(crate) decay_ns: f64,
    pub(crate) failure_penalty_ns: f64,
}
