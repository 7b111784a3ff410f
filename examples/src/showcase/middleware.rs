//! The HTTP layers, each a tower layer (axum's `from_fn`):
//!
//! * [`observe`] — on every request: `X-Process-Time`, a per-route request
//!   counter and latency histogram in the perfect21-monitor registry, and a
//!   `warn` log line for requests slower than the threshold.
//!
//! The GET-response cache is [`super::response_cache`]. Compression of large bodies is tower-http's `CompressionLayer`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use perfect21_monitor::{Counter, LatencyHistogram, Registry};

/// The request counter, error counter and latency histogram the monitor reads.
pub const REQUESTS: &str = "requests_total";
/// Responses with status ≥ 500.
pub const ERRORS: &str = "errors_total";
/// Request latency by route.
pub const LATENCY: &str = "request_latency_seconds";

/// Per-route instruments, created once at start.
#[derive(Debug)]
pub struct Observe {
    routes: HashMap<&'static str, (Counter, LatencyHistogram)>,
    other: (Counter, LatencyHistogram),
    errors: Counter,
    slow: Duration,
}

impl Observe {
    /// Registers the instruments of `routes` (plus `other`) in `registry`.
    pub fn new(registry: &Registry, routes: &[&'static str], slow: Duration) -> Result<Self> {
        let instruments = |route: &str| -> Result<(Counter, LatencyHistogram)> {
            let labels = [("route", route)];
            Ok((
                registry
                    .counter(REQUESTS, &labels)
                    .map_err(|e| anyhow!("{e}"))?,
                registry
                    .histogram(LATENCY, &labels)
                    .map_err(|e| anyhow!("{e}"))?,
            ))
        };
        let mut map = HashMap::new();
        for route in routes {
            map.insert(*route, instruments(route)?);
        }
        Ok(Self {
            routes: map,
            other: instruments("other")?,
            errors: registry.counter(ERRORS, &[]).map_err(|e| anyhow!("{e}"))?,
            slow,
        })
    }
}

impl Observe {
    /// Requests counted so far, every route.
    pub fn total_requests(&self) -> u64 {
        self.routes
            .values()
            .chain(std::iter::once(&self.other))
            .map(|(c, _)| c.get())
            .sum()
    }
}

/// Times the request; see the module docs.
pub async fn observe(
    State(observe): State<Arc<Observe>>,
    request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let mut response = next.run(request).await;
    let elapsed = start.elapsed();
    let (requests, latency) = route
        .as_deref()
        .and_then(|r| observe.routes.get(r))
        .unwrap_or(&observe.other);
    requests.increment();
    latency.record(elapsed);
    if response.status().is_server_error() {
        observe.errors.increment();
    }
    if elapsed > observe.slow {
        tracing::warn!(
            route = route.as_deref().unwrap_or("other"),
            status = response.status().as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1e3,
            "slow request"
        );
    }
    if let Ok(value) = HeaderValue::from_str(&format!("{:.3}ms", elapsed.as_secs_f64() * 1e3)) {
        response.headers_mut().insert("x-process-time", value);
    }
    response
}
