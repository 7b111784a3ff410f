//! `target/demo/latency.svg`: latency by percentile (x: 0 … 99.99 on a
//! "nines" scale, y: milliseconds, log scale), one line per load phase —
//! hand-written SVG, like `docs/balancer-latency-cdf.svg`.

use std::fmt::Write;

use serde_json::Value;

use super::render::Report;

fn curve(summary: &Value) -> Vec<(f64, f64)> {
    summary
        .pointer("/total/curve")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
        .collect()
}

/// The plot.
pub(crate) fn latency_svg(report: &Report) -> String {
    const W: f64 = 900.0;
    const H: f64 = 500.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 250.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 50.0;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let (y_min, y_max) = (-2.0f64, 3.0f64); // log10 ms: 0.01 ms … 1000 ms
    let x = |p: f64| LEFT + (-(1.0 - p / 100.0).max(1e-4).log10()).min(4.0) / 4.0 * pw;
    let y = |ms: f64| {
        TOP + ph - (ms.max(0.01).log10().clamp(y_min, y_max) - y_min) / (y_max - y_min) * ph
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{:.1}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">showcase latency by percentile ({} connections, closed loop)</text>\n",
        LEFT + pw / 2.0,
        report.connections
    );
    for ms in [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0] {
        let py = y(ms);
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{ms}</text>",
            LEFT + pw,
            LEFT - 6.0,
            py + 4.0
        );
    }
    for (p, label) in [
        (0.0, "0"),
        (90.0, "90"),
        (99.0, "99"),
        (99.9, "99.9"),
        (99.99, "99.99"),
    ] {
        let px = x(p);
        let _ = writeln!(
            svg,
            "<line x1=\"{px:.1}\" y1=\"{TOP}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
            TOP + ph,
            TOP + ph + 16.0
        );
    }
    let _ = write!(
        svg,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#333\"/>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">percentile</text>\n\
         <text x=\"16\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {:.1})\">latency (ms, log scale)</text>\n",
        LEFT + pw / 2.0,
        H - 10.0,
        TOP + ph / 2.0,
        TOP + ph / 2.0
    );
    let mut lines: Vec<(String, &Value)> = Vec::new();
    if let Some(run) = report.runs.first() {
        lines.push(("/health ceiling".into(), &run.ceiling));
    }
    for run in &report.runs {
        lines.push((format!("profile, {}", run.mode), &run.profile));
        lines.push((format!("mix, {}", run.mode), &run.mix));
    }
    let colours = ["#7f7f7f", "#1f77b4", "#2ca02c", "#d62728", "#ff7f0e"];
    for (i, (label, summary)) in lines.iter().enumerate() {
        let colour = colours[i % colours.len()];
        let points: String = curve(summary)
            .iter()
            .map(|(p, ms)| format!("{:.1},{:.1} ", x(*p), y(*ms)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            points.trim_end()
        );
        let ly = TOP + 20.0 + i as f64 * 20.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\">{label}</text>",
            LEFT + pw + 15.0,
            LEFT + pw + 40.0,
            LEFT + pw + 46.0,
            ly + 4.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}
