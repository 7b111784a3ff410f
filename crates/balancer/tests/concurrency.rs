//! Many threads picking while the set changes: exact totals, no panic.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use perfect21_balancer::{Balancer, LeastOutstanding, PeakEwma, RoundRobin, Strategy, WeightedP2c};

fn hammer(strategy: impl Strategy) {
    const THREADS: u64 = 8;
    const PICKS: u64 = 5_000;
    let balancer = Balancer::builder()
        .strategy(strategy)
        .endpoints((0..8u32).collect::<Vec<_>>())
        .consecutive_failures(3)
        .max_ejection_percent(50)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new([
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    ]);
    let churn = {
        let balancer = balancer.clone();
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let mut next = 100u32;
            while !stop.load(Ordering::Relaxed) {
                balancer.add(next).unwrap();
                balancer.set_weight(&next, 1 + next % 4).unwrap();
                balancer.remove(&(next - 1).max(100)).ok();
                if next.is_multiple_of(3) {
                    balancer.remove(&(next % 8)).ok();
                    balancer.add(next % 8).ok();
                }
                next += 1;
                thread::yield_now();
            }
        })
    };
    let pickers: Vec<_> = (0..THREADS)
        .map(|t| {
            let balancer = balancer.clone();
            let outcomes = Arc::clone(&outcomes);
            thread::spawn(move || {
                for i in 0..PICKS {
                    match balancer.pick() {
                        Ok(guard) => match (t + i) % 4 {
                            0 | 1 => {
                                guard.success();
                                outcomes[0].fetch_add(1, Ordering::Relaxed);
                            }
                            2 => {
                                guard.failure();
                                outcomes[1].fetch_add(1, Ordering::Relaxed);
                            }
                            _ => {
                                drop(guard);
                                outcomes[2].fetch_add(1, Ordering::Relaxed);
                            }
                        },
                        Err(_) => {
                            outcomes[3].fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for picker in pickers {
        picker.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
    let stats = balancer.stats();
    let load = |i: usize| outcomes[i].load(Ordering::Relaxed);
    assert_eq!(stats.successes, load(0));
    assert_eq!(stats.failures, load(1));
    assert_eq!(stats.cancelled, load(2));
    assert_eq!(stats.unavailable, load(3));
    assert_eq!(stats.requests + stats.unavailable, THREADS * PICKS);
    assert_eq!(stats.in_flight, 0);
    for endpoint in &stats.endpoints {
        assert_eq!(endpoint.in_flight, 0);
        assert_eq!(
            endpoint.requests,
            endpoint.successes + endpoint.failures + endpoint.cancelled
        );
    }
    assert!(stats.ejected_now <= stats.endpoints.len() / 2 + 1);
}

#[test]
fn round_robin_totals_add_up_under_churn() {
    hammer(RoundRobin::new());
}

#[test]
fn peak_ewma_totals_add_up_under_churn() {
    hammer(PeakEwma::new());
}

#[test]
fn least_outstanding_totals_add_up_under_churn() {
    hammer(LeastOutstanding::new());
}

#[test]
fn weighted_p2c_totals_add_up_under_churn() {
    hammer(WeightedP2c::new());
}
