//! An HDR histogram (microseconds, 2 significant figures, up to one hour)
//! with exact count, sum, min and max beside it.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::stats::Latency;

const MAX_MICROS: u64 = 3_600_000_000;

#[derive(Debug)]
pub(crate) struct LatencyRecorder {
    hist: Option<Histogram<u64>>,
    count: u64,
    total_ns: u128,
    min_ns: u64,
    max_ns: u64,
}

impl LatencyRecorder {
    pub(crate) fn new() -> Self {
        Self {
            // 1 µs .. 1 h at 2 significant figures: ~20 KiB. The bounds are
            // constants that `new_with_bounds` accepts; `None` only on a bug.
            hist: Histogram::new_with_bounds(1, MAX_MICROS, 2).ok(),
            count: 0,
            total_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }

    #[inline]
    pub(crate) fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.count += 1;
        self.total_ns += u128::from(ns);
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
        if let Some(h) = &mut self.hist {
            h.saturating_record((ns / 1000).clamp(1, MAX_MICROS));
        }
    }

    pub(crate) fn reset(&mut self) {
        if let Some(h) = &mut self.hist {
            h.reset();
        }
        self.count = 0;
        self.total_ns = 0;
        self.min_ns = u64::MAX;
        self.max_ns = 0;
    }

    pub(crate) fn snapshot(&self) -> Latency {
        if self.count == 0 {
            return Latency::default();
        }
        let q = |q: f64| {
            let us = self.hist.as_ref().map_or(0, |h| h.value_at_quantile(q));
            // The histogram's bucket bound can exceed the exact maximum.
            Duration::from_micros(us).min(Duration::from_nanos(self.max_ns))
        };
        Latency {
            count: self.count,
            min: Duration::from_nanos(self.min_ns),
            max: Duration::from_nanos(self.max_ns),
            total: Duration::from_nanos(u64::try_from(self.total_ns).unwrap_or(u64::MAX)),
            p50: q(0.50),
            p95: q(0.95),
            p99: q(0.99),
            p999: q(0.999),
        }
    }
}
