//! A deterministic, seeded, virtual-time simulation of a client calling
//! N replicas through a load balancer, for `perfect21-balancer` and tower's
//! P2C PeakEwma.
//!
//! The model: `concurrency` callers each issue a request, wait for its
//! answer and issue the next, until `requests` have been issued. Request
//! `i`'s latency depends only on the seed, `i` and the endpoint chosen, so
//! every balancer faces the same draws and differences come from routing
//! alone. A healthy endpoint answers in 5 ms × a log-normal factor
//! (σ = 0.25: median 5 ms, P99 ≈ 9 ms); the degraded one is 20× slower;
//! the failing one answers half of its requests with an error after
//! 0.5 ms. Percentiles are of successful requests; failures count in the
//! error rate. Endpoints have no queue (latency does not grow with load).
//!
//! Time is virtual: everything runs on a current-thread tokio runtime with
//! paused time, the event loop moves the clock to each completion with
//! `tokio::time::advance`, and both balancers read that clock — ours
//! through a [`Clock`] reading `tokio::time::Instant`, tower's PeakEwma
//! natively. No sleeping; a 100 k-request run takes well under a second.

use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use perfect21_balancer::{
    Balancer, Clock, ConsistentHash, LeastOutstanding, PeakEwma, PickGuard, Random, RoundRobin,
    Score, SmoothWeightedRoundRobin, Strategy, WeightedP2c,
};
use tower::Service;
use tower::balance::p2c;
use tower::discover::ServiceList;
use tower::load::{CompleteOnResponse, PeakEwmaDiscover};

/// One simulated situation.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Short name (`slow_endpoint`, `failing_endpoint`).
    pub name: &'static str,
    /// Number of endpoints.
    pub endpoints: usize,
    /// Endpoint 0 is this many times slower (1 = healthy).
    pub slow_factor: f64,
    /// Endpoint 0 fails this share of its requests, fast.
    pub failure_rate: f64,
    /// Requests issued in total.
    pub requests: usize,
    /// Requests in flight at any time.
    pub concurrency: usize,
    /// Seed of every random draw.
    pub seed: u64,
}

impl Scenario {
    /// 10 endpoints, one 20× slower.
    pub fn slow_endpoint(requests: usize) -> Self {
        Self {
            name: "slow_endpoint",
            endpoints: 10,
            slow_factor: 20.0,
            failure_rate: 0.0,
            requests,
            concurrency: 32,
            seed: 21,
        }
    }

    /// 10 endpoints, one failing fast half of the time.
    pub fn failing_endpoint(requests: usize) -> Self {
        Self {
            name: "failing_endpoint",
            endpoints: 10,
            slow_factor: 1.0,
            failure_rate: 0.5,
            requests,
            concurrency: 32,
            seed: 22,
        }
    }

    /// Request `request`'s latency and outcome at `endpoint`.
    fn draw(&self, request: u64, endpoint: usize) -> (Duration, bool) {
        let u1 = unit(mix(self.seed ^ mix(request)));
        let u2 = unit(mix(self.seed ^ mix(request) ^ 0x5151));
        // Box–Muller: a standard normal from two uniforms.
        let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let mut ms = 5.0 * (0.25 * normal).exp();
        if endpoint == 0 {
            ms *= self.slow_factor;
            let u3 = unit(mix(self.seed ^ mix(request) ^ 0xFA11));
            if u3 < self.failure_rate {
                return (Duration::from_micros(500), false);
            }
        }
        (Duration::from_nanos((ms * 1e6) as u64), true)
    }
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform draw in (0, 1).
fn unit(bits: u64) -> f64 {
    ((bits >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// What one balancer did with one scenario.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Contender name, e.g. `perfect21 PeakEwma`, `tower p2c PeakEwma`.
    pub contender: String,
    /// Latency of every successful request, sorted, in nanoseconds (a
    /// failure is not a fast answer: it is counted in `errors` instead).
    pub latencies_ns: Vec<u64>,
    /// Requests issued.
    pub requests: u64,
    /// Requests that failed (an endpoint error or no endpoint available).
    pub errors: u64,
    /// Requests sent to endpoint 0 (the degraded one).
    pub to_bad_endpoint: u64,
}

impl Outcome {
    /// The `q`-quantile (nearest rank) in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_ns.is_empty() {
            return 0.0;
        }
        let rank = ((q * self.latencies_ns.len() as f64).ceil() as usize)
            .clamp(1, self.latencies_ns.len());
        self.latencies_ns[rank - 1] as f64 / 1e6
    }

    /// Failed requests ÷ requests, in percent.
    pub fn error_percent(&self) -> f64 {
        100.0 * self.errors as f64 / self.requests.max(1) as f64
    }
}

/// A balancer under simulation: issue a request (returns the chosen
/// endpoint and a ticket), complete it later.
trait Driver {
    type Ticket;
    fn issue(&mut self, request: u64) -> Option<(usize, Self::Ticket)>;
    fn complete(&mut self, ticket: Self::Ticket, ok: bool);
}

/// The simulator's books.
struct Books<T> {
    heap: BinaryHeap<Reverse<(Duration, usize, Duration)>>,
    tickets: Vec<Option<(T, bool)>>,
    latencies: Vec<u64>,
    errors: u64,
    to_bad: u64,
    issued: u64,
}

impl<T> Books<T> {
    /// Issues the next request at virtual time `now`.
    fn issue<D: Driver<Ticket = T>>(&mut self, scenario: &Scenario, driver: &mut D, now: Duration) {
        let request = self.issued;
        self.issued += 1;
        match driver.issue(request) {
            Some((endpoint, ticket)) => {
                let (latency, ok) = scenario.draw(request, endpoint);
                if endpoint == 0 {
                    self.to_bad += 1;
                }
                self.tickets.push(Some((ticket, ok)));
                self.heap
                    .push(Reverse((now + latency, self.tickets.len() - 1, latency)));
            }
            None => {
                // No endpoint: the request fails at once.
                self.errors += 1;
            }
        }
    }
}

/// The event loop, inside a paused tokio runtime.
async fn simulate<D: Driver>(scenario: &Scenario, driver: &mut D) -> (Vec<u64>, u64, u64) {
    let start = tokio::time::Instant::now();
    let mut books = Books {
        heap: BinaryHeap::new(),
        tickets: Vec::new(),
        latencies: Vec::with_capacity(scenario.requests),
        errors: 0,
        to_bad: 0,
        issued: 0,
    };
    for _ in 0..scenario.concurrency.min(scenario.requests) {
        books.issue(scenario, driver, Duration::ZERO);
    }
    while let Some(Reverse((done_at, slot, latency))) = books.heap.pop() {
        let now = tokio::time::Instant::now().duration_since(start);
        if done_at > now {
            tokio::time::advance(done_at - now).await;
        }
        let Some((ticket, ok)) = books.tickets[slot].take() else {
            continue;
        };
        driver.complete(ticket, ok);
        if ok {
            books.latencies.push(latency.as_nanos() as u64);
        } else {
            books.errors += 1;
        }
        if (books.issued as usize) < scenario.requests {
            books.issue(scenario, driver, done_at);
        }
    }
    books.latencies.sort_unstable();
    (books.latencies, books.errors, books.to_bad)
}

/// Our balancer's clock in the simulation: tokio's (paused) clock.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }
}

struct Ours {
    balancer: Balancer<usize>,
    keyed: bool,
}

impl Driver for Ours {
    type Ticket = PickGuard<usize>;
    fn issue(&mut self, request: u64) -> Option<(usize, Self::Ticket)> {
        let guard = if self.keyed {
            self.balancer.pick_with_key(&request)
        } else {
            self.balancer.pick()
        }
        .ok()?;
        Some((*guard, guard))
    }
    fn complete(&mut self, guard: Self::Ticket, ok: bool) {
        if ok {
            guard.success();
        } else {
            guard.failure();
        }
    }
}

/// A simulated endpoint for tower: records that it was called and answers
/// when the simulator fills the request's slot.
struct TowerEndpoint {
    id: usize,
    called: Rc<Cell<usize>>,
}

/// The request: the slot its outcome is written to.
type Slot = Rc<Cell<Option<bool>>>;

struct Answer(Slot);

impl Future for Answer {
    type Output = Result<(), &'static str>;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        match self.0.get() {
            Some(true) => Poll::Ready(Ok(())),
            Some(false) => Poll::Ready(Err("endpoint failed")),
            None => Poll::Pending,
        }
    }
}

impl Service<Slot> for TowerEndpoint {
    type Response = ();
    type Error = &'static str;
    type Future = Answer;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, slot: Slot) -> Answer {
        self.called.set(self.id);
        Answer(slot)
    }
}

/// tower's P2C over PeakEwma-wrapped endpoints.
type TowerBalance = p2c::Balance<PeakEwmaDiscover<ServiceList<Vec<TowerEndpoint>>>, Slot>;

struct Tower {
    balance: TowerBalance,
    called: Rc<Cell<usize>>,
}

/// A seeded SplitMix64 for tower's P2C.
struct SeededRng(u64);

impl tower::util::rng::Rng for SeededRng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
}

impl Tower {
    fn new(scenario: &Scenario) -> Self {
        let called = Rc::new(Cell::new(usize::MAX));
        let endpoints = (0..scenario.endpoints)
            .map(|id| TowerEndpoint {
                id,
                called: Rc::clone(&called),
            })
            .collect::<Vec<_>>();
        let discover = PeakEwmaDiscover::new(
            ServiceList::new::<Slot>(endpoints),
            Duration::from_millis(30),
            Duration::from_secs(10),
            CompleteOnResponse::default(),
        );
        let balance = p2c::Balance::from_rng(discover, SeededRng(scenario.seed));
        Self { balance, called }
    }
}

type TowerFuture = Pin<Box<dyn Future<Output = Result<(), tower::BoxError>>>>;

impl Driver for Tower {
    type Ticket = (Slot, TowerFuture);
    fn issue(&mut self, _: u64) -> Option<(usize, Self::Ticket)> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.balance.poll_ready(&mut cx) {
            Poll::Ready(Ok(())) => {}
            _ => return None,
        }
        let slot: Slot = Rc::new(Cell::new(None));
        let future = self.balance.call(Rc::clone(&slot));
        Some((self.called.get(), (slot, Box::pin(future))))
    }
    fn complete(&mut self, (slot, mut future): Self::Ticket, ok: bool) {
        slot.set(Some(ok));
        let mut cx = Context::from_waker(Waker::noop());
        // The answer is in the slot: the future (and PeakEwma's handle,
        // which records the RTT now) completes on this poll.
        let _ = future.as_mut().poll(&mut cx);
    }
}

/// The contenders, by name.
pub const CONTENDERS: &[&str] = &[
    "RoundRobin",
    "SmoothWeightedRoundRobin",
    "Random",
    "LeastOutstanding",
    "PeakEwma",
    "WeightedP2c",
    "ConsistentHash",
    "Score",
    "RoundRobin+ejection",
    "PeakEwma+ejection",
    "tower p2c PeakEwma",
];

fn strategy(name: &str, seed: u64) -> Option<Box<dyn Strategy>> {
    Some(match name {
        "RoundRobin" | "RoundRobin+ejection" => Box::new(RoundRobin::new()),
        "SmoothWeightedRoundRobin" => Box::new(SmoothWeightedRoundRobin::new()),
        "Random" => Box::new(Random::with_seed(seed)),
        "LeastOutstanding" => Box::new(LeastOutstanding::with_seed(seed)),
        "PeakEwma" | "PeakEwma+ejection" => Box::new(PeakEwma::with_seed(seed)),
        "WeightedP2c" => Box::new(WeightedP2c::with_seed(seed)),
        "ConsistentHash" => Box::new(ConsistentHash::new()),
        "Score" => Box::new(Score::new()),
        _ => return None,
    })
}

/// Runs one contender (a name from [`CONTENDERS`]) through `scenario`.
/// Our strategies run with outlier detection off (tower has none), so
/// the rows compare routing alone; the `+ejection` rows turn it on with the
/// defaults.
pub fn run(scenario: &Scenario, contender: &str) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("tokio runtime");
    let (latencies_ns, errors, to_bad_endpoint) = runtime.block_on(async {
        match strategy(contender, scenario.seed) {
            Some(strategy) => {
                let balancer = Balancer::builder()
                    .strategy(strategy)
                    .endpoints(0..scenario.endpoints)
                    .clock(TokioClock)
                    .outlier_detection(contender.ends_with("+ejection"))
                    .build()
                    .expect("valid options");
                let mut driver = Ours {
                    balancer,
                    keyed: contender == "ConsistentHash",
                };
                simulate(scenario, &mut driver).await
            }
            None => simulate(scenario, &mut Tower::new(scenario)).await,
        }
    });
    let contender = if contender.starts_with("tower") {
        contender.to_string()
    } else {
        format!("perfect21 {contender}")
    };
    Outcome {
        contender,
        requests: scenario.requests as u64,
        latencies_ns,
        errors,
        to_bad_endpoint,
    }
}

/// A latency CDF per contender as an SVG: x is latency (log scale, 1 ms to
/// 1 s), y is the cumulative share on a "nines" scale (0, 0.9, 0.99,
/// 0.999, 0.9999), where tail differences show.
pub fn cdf_svg(title: &str, outcomes: &[Outcome]) -> String {
    const W: f64 = 980.0;
    const H: f64 = 520.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 330.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 50.0;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let (x_min, x_max) = (0.0f64, 3.0f64); // log10(ms): 1 ms .. 1000 ms
    let y_max = 4.0f64; // nines
    let x = |ms: f64| {
        LEFT + (ms.max(1.0).log10().clamp(x_min, x_max) - x_min) / (x_max - x_min) * plot_w
    };
    let y = |p: f64| {
        let nines = if p >= 1.0 {
            y_max
        } else {
            (-(1.0 - p).log10()).min(y_max)
        };
        TOP + plot_h - nines / y_max * plot_h
    };
    let colours = [
        "#d62728", "#ff7f0e", "#bcbd22", "#8c564b", "#1f77b4", "#17becf", "#9467bd", "#7f7f7f",
        "#e377c2", "#2ca02c", "#000000",
    ];
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">{title}</text>\n",
        LEFT + plot_w / 2.0
    );
    for ms in [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0] {
        let px = x(ms);
        svg += &format!(
            "<line x1=\"{px:.1}\" y1=\"{TOP}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\n<text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{ms}</text>\n",
            TOP + plot_h,
            TOP + plot_h + 16.0
        );
    }
    for (p, label) in [
        (0.0, "0"),
        (0.9, "0.9"),
        (0.99, "0.99"),
        (0.999, "0.999"),
        (0.9999, "0.9999"),
    ] {
        let py = y(p);
        svg += &format!(
            "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"#ddd\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>\n",
            LEFT + plot_w,
            LEFT - 6.0,
            py + 4.0
        );
    }
    svg += &format!(
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"none\" stroke=\"#333\"/>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">latency (ms, log scale)</text>\n\
         <text x=\"16\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {:.1})\">cumulative share of requests</text>\n",
        LEFT + plot_w / 2.0,
        H - 10.0,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0
    );
    for (index, outcome) in outcomes.iter().enumerate() {
        let colour = colours[index % colours.len()];
        let n = outcome.latencies_ns.len();
        let mut points = String::new();
        let mut last_x = f64::NAN;
        // One point per distinct pixel column, plus every tail point.
        for (rank, &ns) in outcome.latencies_ns.iter().enumerate() {
            let p = (rank + 1) as f64 / n as f64;
            let px = x(ns as f64 / 1e6);
            if (px - last_x).abs() < 0.5 && p < 0.999 && rank + 1 != n {
                continue;
            }
            last_x = px;
            points += &format!("{px:.1},{:.1} ", y(p));
        }
        // Dashes on every other line: strategies that route alike overlap.
        let dash = if index % 2 == 1 {
            " stroke-dasharray=\"7 4\""
        } else {
            ""
        };
        svg += &format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\"{dash} points=\"{}\"/>\n",
            points.trim_end()
        );
        let ly = TOP + 10.0 + index as f64 * 18.0;
        let lx = LEFT + plot_w + 14.0;
        svg += &format!(
            "<line x1=\"{lx:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"3\"{dash}/>\n<text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            lx + 18.0,
            lx + 24.0,
            ly + 4.0,
            outcome.contender
        );
    }
    svg += "</svg>\n";
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulation_is_deterministic_and_peak_ewma_avoids_the_slow_endpoint() {
        let scenario = Scenario::slow_endpoint(4_000);
        let rr = run(&scenario, "RoundRobin");
        let ewma = run(&scenario, "PeakEwma");
        let tower = run(&scenario, "tower p2c PeakEwma");
        assert_eq!((rr.latencies_ns.len(), rr.errors), (4_000, 0));
        assert_eq!(ewma.latencies_ns.len(), 4_000);
        assert_eq!(tower.latencies_ns.len(), 4_000);
        // Round robin sends exactly one request in ten to the slow endpoint.
        assert_eq!(rr.to_bad_endpoint, 400);
        assert!(ewma.to_bad_endpoint < 40, "{}", ewma.to_bad_endpoint);
        assert!(tower.to_bad_endpoint < 40, "{}", tower.to_bad_endpoint);
        assert!(rr.quantile_ms(0.99) > 50.0);
        assert!(ewma.quantile_ms(0.99) < 20.0);
        let again = run(&scenario, "PeakEwma");
        assert_eq!(again.latencies_ns, ewma.latencies_ns);
    }

    #[test]
    fn failures_are_avoided_by_peak_ewma_but_not_by_round_robin() {
        let scenario = Scenario::failing_endpoint(4_000);
        let rr = run(&scenario, "RoundRobin");
        let ewma = run(&scenario, "PeakEwma");
        assert!(rr.error_percent() > 3.0, "{}", rr.error_percent());
        assert_eq!(rr.latencies_ns.len() as u64 + rr.errors, 4_000);
        assert!(ewma.error_percent() < 1.0, "{}", ewma.error_percent());
        let svg = cdf_svg("test", &[rr, ewma]);
        assert!(svg.starts_with("<svg") && svg.contains("polyline"));
    }
}
