//! Ratios a verdict rests on, measured the way the benches measure theirs:
//! two sides in alternating slices (A B B A A B B A …, after one warm-up
//! slice each), so a burst of load from anything else on the machine lands
//! on both, and the ratio reported with its spread over the slice pairs.

use anyhow::Result;
use serde::Serialize;
use serde_json::{Value, json};

use super::num;

/// The median, least and greatest of some figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Spread {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    /// How many figures.
    pub(crate) n: usize,
}

impl Spread {
    /// `None` for no figures.
    pub(crate) fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median = if sorted.len() % 2 == 1 {
            sorted[mid]
        } else {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        };
        Some(Self {
            median,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            n: sorted.len(),
        })
    }
}

/// loadgen's summaries of each side's measured slices.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slices {
    pub(crate) a: Vec<Value>,
    pub(crate) b: Vec<Value>,
}

/// Runs `a` and `b` (each given the slice's index, warm-up included, and
/// returning loadgen's summary) once each to warm up, then `slices` times
/// each in ABBA order.
pub(crate) fn abba(
    slices: usize,
    mut a: impl FnMut(usize) -> Result<Value>,
    mut b: impl FnMut(usize) -> Result<Value>,
) -> Result<Slices> {
    a(0)?;
    b(0)?;
    let mut out = Slices::default();
    for turn in 0..2 * slices {
        if matches!(turn % 4, 0 | 3) {
            out.a.push(a(out.a.len() + 1)?);
        } else {
            out.b.push(b(out.b.len() + 1)?);
        }
    }
    Ok(out)
}

fn figures(side: &[Value], path: &str) -> Vec<f64> {
    side.iter().map(|s| num(s, path)).collect()
}

/// Successful requests per second of one slice: loadgen's throughput
/// counts every request, and an answer that failed fast must not raise a
/// ratio.
fn ok_rps(summary: &Value) -> f64 {
    let count = num(summary, "total.count");
    let errors = num(summary, "total.errors");
    let rps = num(summary, "total.rps");
    if count > 0.0 {
        rps * (count - errors).max(0.0) / count
    } else {
        rps
    }
}

impl Slices {
    /// `b`'s successful throughput over `a`'s, per slice pair.
    pub(crate) fn b_over_a(&self) -> Option<Spread> {
        let ratios: Vec<f64> = self
            .a
            .iter()
            .zip(&self.b)
            .map(|(a, b)| ok_rps(b) / ok_rps(a))
            .collect();
        Spread::of(&ratios)
    }

    /// One side as a loadgen-like summary: the median throughput and P50
    /// over its slices, the *worst* slice's P95 and P99 (a percentile that
    /// is a median of slices would hide the worst ones), errors summed, the
    /// spread of the throughput, and the latency curve of the slice whose
    /// throughput is nearest the median.
    pub(crate) fn summary(side: &[Value]) -> Value {
        let median = |path: &str| Spread::of(&figures(side, path)).map_or(0.0, |s| s.median);
        let worst = |path: &str| Spread::of(&figures(side, path)).map_or(0.0, |s| s.max);
        let rps = Spread::of(&figures(side, "total.rps"));
        let typical = side
            .iter()
            .min_by(|x, y| {
                let off = |s: &Value| (num(s, "total.rps") - median("total.rps")).abs();
                off(x).total_cmp(&off(y))
            })
            .and_then(|s| s.pointer("/total/curve"))
            .cloned()
            .unwrap_or(Value::Null);
        json!({
            "total": {
                "rps": median("total.rps"),
                "p50_ms": median("total.p50_ms"),
                "p95_ms": worst("total.p95_ms"),
                "p99_ms": worst("total.p99_ms"),
                "errors": figures(side, "total.errors").iter().sum::<f64>(),
                "curve": typical,
            },
            "slices": side.len(),
            "rps_spread": rps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_have_a_median_even_or_odd() {
        let odd = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((odd.median, odd.min, odd.max, odd.n), (2.0, 1.0, 3.0, 3));
        assert_eq!(Spread::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[f64::NAN, 1.0]).unwrap().n, 1);
    }

    #[test]
    fn sides_alternate_abba_after_a_warm_up_each() {
        let order = std::cell::RefCell::new(String::new());
        let slices = abba(
            4,
            |i| {
                order.borrow_mut().push_str(&format!("A{i} "));
                Ok(json!({"total": {"rps": 100.0}}))
            },
            |i| {
                order.borrow_mut().push_str(&format!("B{i} "));
                Ok(json!({"total": {"rps": 25.0 * i as f64, "p99_ms": i as f64}}))
            },
        )
        .unwrap();
        assert_eq!(order.into_inner(), "A0 B0 A1 B1 B2 A2 A3 B3 B4 A4 ");
        assert_eq!((slices.a.len(), slices.b.len()), (4, 4));
        // B over A per pair: 0.25, 0.5, 0.75, 1.0.
        let ratio = slices.b_over_a().unwrap();
        assert_eq!((ratio.median, ratio.min, ratio.max), (0.625, 0.25, 1.0));
        let b = Slices::summary(&slices.b);
        assert_eq!(b["total"]["rps"], 62.5);
        assert_eq!(b["slices"], 4);
        assert_eq!(b["total"]["p99_ms"], 4.0, "the worst slice's P99");
    }

    #[test]
    fn failed_requests_do_not_count_towards_a_ratio() {
        let slices = Slices {
            a: vec![json!({"total": {"rps": 100.0, "count": 100, "errors": 0}})],
            b: vec![json!({"total": {"rps": 100.0, "count": 100, "errors": 50}})],
        };
        assert_eq!(slices.b_over_a().unwrap().median, 0.5);
    }
}
