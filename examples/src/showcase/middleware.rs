//! The HTTP layers, each a tower layer (axum's `from_fn`):
//!
//! * [`observe`] — on every request: `X-Process-Time`, a per-route request
//!   counter and latency histogram in the perfect21-monitor registry, and a
//!   `warn` log line for requests slower than the threshold.
//! * [`response_cache`] — on the routes it is put on: GET responses that
//!   say `Cache-Control: max-age=N` are kept in a perfect21-lru cache (by
//!   bytes) for N seconds, keyed by path and query.
//!
//! Compression of large bodies is tower-http's `CompressionLayer`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use perfect21_lru::{CacheStats, ConcurrentLru, DefaultHashBuilder};
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

type Weigh = fn(&String, &Cached) -> u64;

/// A cached response: content type and body.
#[derive(Debug, Clone)]
pub struct Cached {
    content_type: Option<HeaderValue>,
    body: Bytes,
}

#[allow(clippy::ptr_arg)] // the weigher's signature is `Fn(&K, &V)` with K = String
fn weigh(key: &String, value: &Cached) -> u64 {
    (key.len() + value.body.len()) as u64 + perfect21_lru::ENTRY_OVERHEAD
}

/// The GET-response cache.
#[derive(Debug)]
pub struct ResponseCache {
    cache: ConcurrentLru<String, Cached, DefaultHashBuilder, Weigh>,
}

/// Bodies above this are not cached.
const MAX_BODY: usize = 256 * 1024;

impl ResponseCache {
    /// At most `max_bytes` of keys and bodies.
    pub fn new(max_bytes: u64) -> Result<Self> {
        Ok(Self {
            cache: ConcurrentLru::builder()
                .max_weight(max_bytes)
                .weigher(weigh as Weigh)
                .build()
                .map_err(|e| anyhow!("response cache: {e}"))?,
        })
    }

    /// Hits, misses, evictions.
    pub fn stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Drops expired responses; returns how many.
    pub fn purge_expired(&self) -> usize {
        self.cache.purge_expired()
    }
}

fn max_age(response: &Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(header::CACHE_CONTROL)?
        .to_str()
        .ok()?;
    value.split(',').find_map(|part| {
        let seconds = part.trim().strip_prefix("max-age=")?.parse::<u64>().ok()?;
        (seconds > 0).then(|| Duration::from_secs(seconds))
    })
}

/// Serves GETs from the cache; caches 200 responses that carry `max-age`.
pub async fn response_cache(
    State(cache): State<Arc<ResponseCache>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let key = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |pq| pq.as_str().to_owned(),
    );
    if let Some(hit) = cache.cache.get(&key) {
        let mut response = Body::from(hit.body).into_response();
        if let Some(content_type) = hit.content_type {
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, content_type);
        }
        response
            .headers_mut()
            .insert("x-cache", HeaderValue::from_static("hit"));
        return response;
    }
    let response = next.run(request).await;
    let Some(ttl) = max_age(&response).filter(|_| response.status() == StatusCode::OK) else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            let cached = Cached {
                content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
                body: bytes.clone(),
            };
            let _ = cache.cache.insert_with_ttl(key, cached, ttl);
            parts
                .headers
                .insert("x-cache", HeaderValue::from_static("miss"));
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "response too large to cache",
        )
            .into_response(),
    }
}
