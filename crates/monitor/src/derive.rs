//! What the loop derives from the registry at every tick: counter rates,
//! per-interval histogram percentiles, the request and error rates.

use std::collections::HashMap;

use hdrhistogram::Histogram;
use tokio::time::Instant;

use crate::monitor::Shared;
use crate::registry::Metric;
use crate::series::{Point, SeriesKey};

/// What the loop remembers between ticks to derive rates.
#[derive(Debug, Default)]
pub(crate) struct TickState {
    pub(crate) last: Option<Instant>,
    counters: HashMap<SeriesKey, u64>,
    histograms: HashMap<SeriesKey, Histogram<u64>>,
}

/// Registry metrics as points, plus rates, per-interval percentiles and the
/// API figures derived from them.
pub(crate) fn application_points(
    shared: &Shared,
    state: &mut TickState,
    elapsed: Option<f64>,
    out: &mut Vec<Point>,
) {
    let api = &shared.api;
    let (mut req_delta, mut err_delta) = (None::<u64>, None::<u64>);
    for (key, metric) in shared.registry.metrics() {
        match metric {
            Metric::Counter(c) => {
                let v = c.get();
                out.push(Point {
                    key: key.clone(),
                    value: v as f64,
                });
                let prev = state.counters.insert(key.clone(), v);
                if let (Some(prev), Some(secs)) = (prev, elapsed) {
                    let delta = v.saturating_sub(prev);
                    if secs > 0.0 {
                        out.push(Point {
                            key: key.with_name(format!("{}_per_second", key.name)),
                            value: delta as f64 / secs,
                        });
                    }
                    if key.name == api.requests {
                        *req_delta.get_or_insert(0) += delta;
                    } else if key.name == api.errors {
                        *err_delta.get_or_insert(0) += delta;
                    }
                }
            }
            Metric::Gauge(g) => out.push(Point {
                key,
                value: g.get(),
            }),
            Metric::Histogram(h) => {
                let current = h.merged();
                let mut delta = current.clone();
                if let Some(prev) = state.histograms.get(&key)
                    && delta.subtract(prev).is_err()
                {
                    // Reset since the last tick: everything is new.
                    delta = current.clone();
                }
                if !delta.is_empty() {
                    for (suffix, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
                        out.push(Point {
                            key: key.with_name(format!("{}_{suffix}", key.name)),
                            value: delta.value_at_quantile(q) as f64 / 1e6,
                        });
                    }
                }
                if let Some(secs) = elapsed.filter(|s| *s > 0.0) {
                    out.push(Point {
                        key: key.with_name(format!("{}_per_second", key.name)),
                        value: delta.len() as f64 / secs,
                    });
                }
                state.histograms.insert(key, current);
            }
        }
    }
    if let (Some(req), Some(secs)) = (req_delta, elapsed.filter(|s| *s > 0.0)) {
        out.push(Point::new("request_rate_per_second", req as f64 / secs));
        if req > 0 {
            let err = err_delta.unwrap_or(0);
            out.push(Point::new(
                "error_rate_percent",
                err as f64 * 100.0 / req as f64,
            ));
        }
    }
}
