//! perfect21-balancer's pick cost beside tower's `p2c::Balance` over
//! `PeakEwma`. Every row is one request's balancing work: pick an endpoint,
//! then report its outcome (`success()` — our guard records the latency,
//! updates the EWMA and the counters; for tower, `poll_ready` + `call` +
//! completing the response future, whose PeakEwma handle records the RTT).
//! The endpoints answer at once, so only the balancer is measured.
//!
//! Groups (parameter: number of endpoints, 4, 16, 256):
//! * `balancer/pick` — one thread; `perfect21` is the PeakEwma strategy,
//!   `perfect21_<strategy>` the others, `tower` is `p2c::Balance` over
//!   `PeakEwmaDiscover` (seeded, same default RTT and decay);
//! * `balancer/pick_2_threads` — two threads picking from one shared
//!   balancer, time per pick on each thread. tower has no row: its
//!   `Balance` is driven through `&mut self` (`poll_ready`/`call`), so two
//!   threads would measure the lock or buffer put around it, not the pick;
//! * `balancer/pick_cancel` — 16 endpoints, pick and drop the guard
//!   unresolved (the pick plus three counter updates);
//! * `balancer/pick_only` — 16 endpoints, the pick alone: the guards are
//!   dropped after the timed loop (so in-flight counts grow during a
//!   sample, which PeakEwma's cost reads but does not pay for).
//!
//! The simulation (tail latency, error rates, the CDF plot) is the
//! `balancer_sim` program, run by `cargo xtask bench balancer`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Barrier;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use perfect21_balancer::{
    Balancer, ConsistentHash, LeastOutstanding, PeakEwma, Random, RoundRobin, Score,
    SmoothWeightedRoundRobin, Strategy, WeightedP2c,
};
use tower::Service;
use tower::balance::p2c;
use tower::discover::ServiceList;
use tower::load::{CompleteOnResponse, PeakEwmaDiscover};

const SIZES: [usize; 3] = [4, 16, 256];

/// (function id, strategy, picks by key)
fn strategies() -> Vec<(&'static str, Box<dyn Strategy>, bool)> {
    vec![
        ("perfect21", Box::new(PeakEwma::new()), false),
        ("perfect21_round_robin", Box::new(RoundRobin::new()), false),
        (
            "perfect21_smooth_wrr",
            Box::new(SmoothWeightedRoundRobin::new()),
            false,
        ),
        ("perfect21_random", Box::new(Random::new()), false),
        (
            "perfect21_least_outstanding",
            Box::new(LeastOutstanding::new()),
            false,
        ),
        (
            "perfect21_weighted_p2c",
            Box::new(WeightedP2c::new()),
            false,
        ),
        (
            "perfect21_consistent_hash",
            Box::new(ConsistentHash::new()),
            true,
        ),
        ("perfect21_score", Box::new(Score::new()), false),
    ]
}

fn balancer(strategy: Box<dyn Strategy>, endpoints: usize) -> Balancer<usize> {
    Balancer::builder()
        .strategy(strategy)
        .endpoints(0..endpoints)
        .build()
        .expect("valid options")
}

#[inline]
fn one_request(balancer: &Balancer<usize>, keyed: bool, n: u64) {
    let guard = if keyed {
        balancer.pick_with_key(&n)
    } else {
        balancer.pick()
    }
    .expect("an endpoint");
    black_box(*guard);
    guard.success();
}

/// An endpoint that is always ready and answers at once.
struct Instant0;

impl Service<()> for Instant0 {
    type Response = ();
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<(), Self::Error>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, _: ()) -> Self::Future {
        std::future::ready(Ok(()))
    }
}

type TowerBalance = p2c::Balance<PeakEwmaDiscover<ServiceList<Vec<Instant0>>>, ()>;

fn tower_balance(endpoints: usize) -> TowerBalance {
    let discover = PeakEwmaDiscover::new(
        ServiceList::new::<()>((0..endpoints).map(|_| Instant0).collect::<Vec<_>>()),
        Duration::from_millis(30),
        Duration::from_secs(10),
        CompleteOnResponse::default(),
    );
    p2c::Balance::new(discover)
}

fn tower_request(balance: &mut TowerBalance) {
    use std::future::Future;
    let mut cx = Context::from_waker(Waker::noop());
    assert!(balance.poll_ready(&mut cx).is_ready());
    let mut future = std::pin::pin!(balance.call(()));
    assert!(future.as_mut().poll(&mut cx).is_ready());
}

fn pick(c: &mut Criterion) {
    let mut group = c.benchmark_group("balancer/pick");
    group.throughput(Throughput::Elements(1));
    for endpoints in SIZES {
        for (name, strategy, keyed) in strategies() {
            let balancer = balancer(strategy, endpoints);
            let mut n = 0u64;
            group.bench_function(BenchmarkId::new(name, endpoints), |b| {
                b.iter(|| {
                    n = n.wrapping_add(1);
                    one_request(&balancer, keyed, n);
                });
            });
        }
        let mut balance = tower_balance(endpoints);
        group.bench_function(BenchmarkId::new("tower", endpoints), |b| {
            b.iter(|| tower_request(&mut balance));
        });
    }
    group.finish();
}

fn pick_2_threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("balancer/pick_2_threads");
    group.throughput(Throughput::Elements(1));
    for endpoints in SIZES {
        for (name, strategy, keyed) in strategies() {
            let balancer = balancer(strategy, endpoints);
            group.bench_function(BenchmarkId::new(name, endpoints), |b| {
                b.iter_custom(|iters| {
                    let barrier = Barrier::new(2);
                    let times: Vec<Duration> = std::thread::scope(|scope| {
                        let workers: Vec<_> = (0..2u64)
                            .map(|t| {
                                let (balancer, barrier) = (&balancer, &barrier);
                                scope.spawn(move || {
                                    barrier.wait();
                                    let start = Instant::now();
                                    for i in 0..iters {
                                        one_request(balancer, keyed, i * 2 + t);
                                    }
                                    start.elapsed()
                                })
                            })
                            .collect();
                        workers
                            .into_iter()
                            .map(|w| w.join().expect("worker"))
                            .collect()
                    });
                    times.into_iter().max().unwrap_or_default()
                });
            });
        }
    }
    group.finish();
}

fn pick_cancel(c: &mut Criterion) {
    let mut group = c.benchmark_group("balancer/pick_cancel");
    group.throughput(Throughput::Elements(1));
    for (name, strategy) in [
        ("perfect21", Box::new(PeakEwma::new()) as Box<dyn Strategy>),
        ("perfect21_round_robin", Box::new(RoundRobin::new())),
    ] {
        let balancer = balancer(strategy, 16);
        group.bench_function(BenchmarkId::new(name, 16), |b| {
            b.iter(|| drop(black_box(balancer.pick().expect("an endpoint"))));
        });
    }
    group.finish();
}

fn pick_only(c: &mut Criterion) {
    let mut group = c.benchmark_group("balancer/pick_only");
    group.throughput(Throughput::Elements(1));
    for (name, strategy) in [
        ("perfect21", Box::new(PeakEwma::new()) as Box<dyn Strategy>),
        ("perfect21_round_robin", Box::new(RoundRobin::new())),
    ] {
        let balancer = balancer(strategy, 16);
        group.bench_function(BenchmarkId::new(name, 16), |b| {
            // The guards are dropped after the timed loop.
            b.iter_with_large_drop(|| balancer.pick().expect("an endpoint"));
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = pick, pick_2_threads, pick_cancel, pick_only
}
criterion_main!(benches);
