//! A small HTTP upstream for the showcase: the replicas the balancer spreads
//! calls over. `cargo xtask demo` starts several on loopback ports and can
//! slow one down or make it fail while the load runs.
//!
//! ```text
//! upstream --port 0 [--name a] [--delay-ms 1]
//! GET  /item/{id}                 → {"upstream":"a","id":…}, after the delay
//! GET  /health                    → ok
//! POST /admin/delay?ms=50         → every later request waits 50 ms
//! POST /admin/fail?percent=50     → that share of requests answer 503 at once
//! ```
//! The bound address is printed as the first line of stdout: `listening 127.0.0.1:PORT`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

#[derive(Debug)]
struct Upstream {
    name: String,
    delay_us: AtomicU64,
    fail_percent: AtomicU64,
    served: AtomicU64,
}

async fn item(State(up): State<Arc<Upstream>>, Path(id): Path<u64>) -> Response {
    let n = up.served.fetch_add(1, Ordering::Relaxed);
    // Deterministic failures: request n fails when its position in every
    // hundred falls under the failure percentage.
    if (n % 100) < up.fail_percent.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "failing on purpose").into_response();
    }
    let delay = up.delay_us.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_micros(delay)).await;
    }
    (
        [("content-type", "application/json")],
        format!(r#"{{"upstream":"{}","id":{id}}}"#, up.name),
    )
        .into_response()
}

fn number(query: &HashMap<String, String>, key: &str) -> Result<u64, (StatusCode, String)> {
    query.get(key).and_then(|v| v.parse().ok()).ok_or((
        StatusCode::BAD_REQUEST,
        format!("?{key}=<number> is required"),
    ))
}

async fn set_delay(
    State(up): State<Arc<Upstream>>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let ms = number(&q, "ms")?;
    up.delay_us.store(ms * 1000, Ordering::Relaxed);
    Ok::<_, (StatusCode, String)>(format!("{} delay {ms} ms\n", up.name))
}

async fn set_fail(
    State(up): State<Arc<Upstream>>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let percent = number(&q, "percent")?.min(100);
    up.fail_percent.store(percent, Ordering::Relaxed);
    Ok::<_, (StatusCode, String)>(format!("{} failing {percent} %\n", up.name))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut port = 0u16;
    let mut name = "upstream".to_string();
    let mut delay_ms = 0u64;
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        match (pair[0].as_str(), pair.get(1)) {
            ("--port", Some(v)) => port = v.parse().unwrap_or(0),
            ("--name", Some(v)) => name = v.clone(),
            ("--delay-ms", Some(v)) => delay_ms = v.parse().unwrap_or(0),
            (flag, _) => {
                eprintln!("upstream: unknown or incomplete flag {flag}");
                std::process::exit(2);
            }
        }
    }
    let state = Arc::new(Upstream {
        name,
        delay_us: AtomicU64::new(delay_ms * 1000),
        fail_percent: AtomicU64::new(0),
        served: AtomicU64::new(0),
    });
    let app = Router::new()
        .route("/item/{id}", get(item))
        .route("/health", get(|| async { "ok" }))
        .route("/admin/delay", post(set_delay))
        .route("/admin/fail", post(set_fail))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
