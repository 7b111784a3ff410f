//! One replica turns slow, another fails: where does the traffic go?
//!
//! `cargo run -p perfect21-balancer --example slow_replica`
#![allow(clippy::print_stdout)]

use std::time::Duration;

use perfect21_balancer::{Balancer, Error, ManualClock, PeakEwma, RoundRobin, Strategy};

const REPLICAS: [&str; 4] = ["db-a:5432", "db-b:5432", "db-c:5432", "db-d:5432"];

/// Simulated replicas: `db-b` answers in 80 ms, `db-d` fails in 1 ms, the
/// others answer in 5 ms.
fn call(replica: &str) -> (Duration, bool) {
    match replica {
        "db-b:5432" => (Duration::from_millis(80), true),
        "db-d:5432" => (Duration::from_millis(1), false),
        _ => (Duration::from_millis(5), true),
    }
}

/// Sends 1 000 requests one after another through a balancer using
/// `strategy`, on simulated time; returns it and the mean latency a caller saw.
fn run(strategy: impl Strategy) -> Result<(Balancer<&'static str>, Duration), Error> {
    let clock = ManualClock::new();
    let balancer = Balancer::builder()
        .strategy(strategy)
        .endpoints(REPLICAS)
        .consecutive_failures(5) // eject after five failures in a row …
        .base_ejection_time(Duration::from_secs(30)) // … for 30 s, then probe
        .clock(clock.clone())
        .build()?;
    let mut total = Duration::ZERO;
    for _ in 0..1_000 {
        let guard = balancer.pick()?;
        let (latency, ok) = call(*guard);
        clock.advance(latency);
        total += latency;
        if ok { guard.success() } else { guard.failure() }
    }
    Ok((balancer, total / 1_000))
}

fn main() -> Result<(), Error> {
    let mut seen = Vec::new();
    for (name, (balancer, mean)) in [
        ("RoundRobin", run(RoundRobin::new())?),
        ("PeakEwma", run(PeakEwma::with_seed(21))?),
    ] {
        let stats = balancer.stats();
        println!(
            "{name}: {} requests, {} failed, mean latency {:.1} ms",
            stats.requests,
            stats.failures,
            mean.as_secs_f64() * 1e3
        );
        for endpoint in &stats.endpoints {
            println!(
                "  {:<10} {:>4} requests  ewma {:>6.1} ms  ejected {}",
                endpoint.endpoint,
                endpoint.requests,
                endpoint.ewma_latency.as_secs_f64() * 1e3,
                endpoint.times_ejected
            );
        }
        assert_eq!(stats.requests, 1_000);
        // Outlier ejection (round robin) or the failure penalty (PeakEwma)
        // takes the failing replica out after a handful of requests.
        assert!(stats.failures <= 5, "{} failures", stats.failures);
        let slow = stats
            .endpoints
            .iter()
            .find(|e| e.endpoint == "db-b:5432")
            .map_or(0, |e| e.requests);
        seen.push((slow, stats.failures, mean));
    }
    // Round robin keeps sending the slow replica its quarter. PeakEwma's
    // power of two choices picks it only when the other candidate looks
    // worse still (here: the failing replica), so callers wait less.
    let (round_robin, peak_ewma) = (seen[0], seen[1]);
    assert!(round_robin.0 >= 240 && peak_ewma.0 < round_robin.0 * 3 / 4);
    assert!(peak_ewma.1 <= round_robin.1 && peak_ewma.2 < round_robin.2);
    Ok(())
}
