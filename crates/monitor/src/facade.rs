//! Reporting through the `metrics` facade (feature `metrics`).

use crate::series::Point;

/// Sets one `metrics` gauge per point, named and labelled like the point.
pub(crate) fn report(points: &[Point]) {
    for p in points {
        let labels: Vec<metrics::Label> = p
            .key
            .labels
            .iter()
            .map(|(k, v)| metrics::Label::new(k.clone(), v.clone()))
            .collect();
        metrics::gauge!(p.key.name.clone(), labels).set(p.value);
    }
}
