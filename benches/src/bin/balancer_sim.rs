//! The balancer simulation at full size: 100 000 requests at 32 in flight
//! over 10 endpoints, two scenarios, every strategy and tower's P2C
//! PeakEwma. Writes `perfect21-results/balancer_sim.json` (rendered into
//! docs/benchmarks.md by `cargo xtask bench balancer`) and the latency CDF
//! plots `docs/balancer-latency-cdf.svg` (slow endpoint) and
//! `docs/balancer-latency-cdf-failing.svg` (failing endpoint).

use std::path::PathBuf;

use perfect21_benches::balancer_sim::{CONTENDERS, Outcome, Scenario, cdf_svg, run};
use perfect21_benches::results::{self, Record};

const REQUESTS: usize = 100_000;

fn find<'a>(outcomes: &'a [Outcome], name: &str) -> &'a Outcome {
    outcomes
        .iter()
        .find(|o| o.contender == name)
        .expect("contender ran")
}

fn main() {
    let mut records = Vec::new();
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
    for (scenario, svg) in [
        (
            Scenario::slow_endpoint(REQUESTS),
            "balancer-latency-cdf.svg",
        ),
        (
            Scenario::failing_endpoint(REQUESTS),
            "balancer-latency-cdf-failing.svg",
        ),
    ] {
        let outcomes: Vec<Outcome> = CONTENDERS.iter().map(|c| run(&scenario, c)).collect();
        println!(
            "{} ({} requests, {} in flight, {} endpoints)",
            scenario.name, scenario.requests, scenario.concurrency, scenario.endpoints
        );
        println!(
            "{:<36} {:>9} {:>9} {:>9} {:>8} {:>9}",
            "contender", "P50 ms", "P99 ms", "P99.9 ms", "errors %", "to bad %"
        );
        for o in &outcomes {
            let to_bad = 100.0 * o.to_bad_endpoint as f64 / scenario.requests as f64;
            println!(
                "{:<36} {:>9.2} {:>9.2} {:>9.2} {:>8.3} {:>9.2}",
                o.contender,
                o.quantile_ms(0.5),
                o.quantile_ms(0.99),
                o.quantile_ms(0.999),
                o.error_percent(),
                to_bad
            );
            let case = format!("{} · {}", scenario.name, o.contender);
            records.push(Record::new(
                "balancer",
                case.clone(),
                "P50",
                o.quantile_ms(0.5),
                "ms",
            ));
            records.push(Record::new(
                "balancer",
                case.clone(),
                "P99",
                o.quantile_ms(0.99),
                "ms",
            ));
            records.push(Record::new(
                "balancer",
                case.clone(),
                "P99.9",
                o.quantile_ms(0.999),
                "ms",
            ));
            records.push(Record::new(
                "balancer",
                case.clone(),
                "error rate",
                o.error_percent(),
                "%",
            ));
            records.push(Record::new(
                "balancer",
                case,
                "share sent to the bad endpoint",
                to_bad,
                "%",
            ));
        }
        let rr = find(&outcomes, "perfect21 RoundRobin");
        let ewma = find(&outcomes, "perfect21 PeakEwma");
        let tower = find(&outcomes, "tower p2c PeakEwma");
        if scenario.failure_rate > 0.0 {
            let ratio = rr.error_percent() / ewma.error_percent().max(1e-9);
            println!("error rate RoundRobin ÷ PeakEwma: {ratio:.1} (target ≥ 3)");
            records.push(Record::new(
                "balancer",
                format!("{} · target ≥ 3", scenario.name),
                "error rate RoundRobin ÷ PeakEwma",
                ratio,
                "×",
            ));
            let ratio = tower.error_percent() / ewma.error_percent().max(1e-9);
            records.push(Record::new(
                "balancer",
                format!("{} · tower ÷ perfect21", scenario.name),
                "error rate tower p2c PeakEwma ÷ PeakEwma",
                ratio,
                "×",
            ));
        } else {
            let ratio = rr.quantile_ms(0.99) / ewma.quantile_ms(0.99);
            println!("P99 RoundRobin ÷ PeakEwma: {ratio:.2} (target ≥ 5)");
            records.push(Record::new(
                "balancer",
                format!("{} · target ≥ 5", scenario.name),
                "P99 RoundRobin ÷ PeakEwma",
                ratio,
                "×",
            ));
        }
        let ratio = tower.quantile_ms(0.99) / ewma.quantile_ms(0.99);
        println!("P99 tower ÷ PeakEwma: {ratio:.3} (target ≥ 1)\n");
        records.push(Record::new(
            "balancer",
            format!("{} · target ≥ 1", scenario.name),
            "P99 tower p2c PeakEwma ÷ PeakEwma",
            ratio,
            "×",
        ));
        let title = format!(
            "Latency CDF of successful requests, {}: 10 endpoints, {} requests, {} in flight",
            scenario.name.replace('_', " "),
            scenario.requests,
            scenario.concurrency
        );
        let path = docs.join(svg);
        match std::fs::write(&path, cdf_svg(&title, &outcomes)) {
            Ok(()) => eprintln!("plot written to {}", path.display()),
            Err(error) => eprintln!("could not write {}: {error}", path.display()),
        }
    }
    match results::write("balancer_sim", &records) {
        Ok(path) => eprintln!("results written to {}", path.display()),
        Err(error) => {
            eprintln!("could not write the results: {error}");
            std::process::exit(1);
        }
    }
}
