//! The showcase service: a user/profile API over Postgres and Redis that
//! uses all eight Perfect21 crates. `cargo xtask demo` runs it under load.
//!
//! ```text
//! showcase [--port 0] [--database-url URL] [--replica-url URL] [--redis-url URL]
//!          [--upstreams http://a,http://b] [--users 100000] [--warm 0] [--no-cache]
//!          [--l1-bytes N] [--db-pool 8] [--slow-ms 100] [--maintenance-secs 10]
//! ```
//! Flags override the environment (`PORT`, `DATABASE_URL`,
//! `REPLICA_DATABASE_URL`, `REDIS_URL`, `UPSTREAM_URLS`). The first line of
//! stdout is `listening 127.0.0.1:PORT` once it serves; logs go to stderr
//! (`RUST_LOG` filters them).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::process::ExitCode;

use perfect21_examples::showcase::{self, Config};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_args(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("showcase: {e:#}");
            return ExitCode::from(2);
        }
    };
    tracing::info!(?config, "starting");
    let running = match showcase::start(config).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("showcase: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening {}", running.addr);
    let _ = std::io::stdout().flush();
    tokio::select! {
        result = running.wait() => match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("showcase: {e:#}");
                ExitCode::FAILURE
            }
        },
        _ = shutdown_signal() => ExitCode::SUCCESS,
    }
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
