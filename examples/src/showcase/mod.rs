//! The showcase service: one small user/profile API that uses all eight
//! Perfect21 crates for what each is for. See `src/bin/showcase.rs` for
//! how to run it and the README's "main job" for the report of
//! `cargo xtask demo`.
//!
//! | part | crate |
//! |---|---|
//! | all SQL, per-statement stats, slow log | perfect21-pg-stats ([`db`]) |
//! | reads spread over two Postgres endpoints, calls over upstream replicas | perfect21-balancer ([`db`], [`upstream`]) |
//! | shared profile cache: cache-aside, TTL, single-flight | perfect21-redis-cache ([`profiles`]) |
//! | in-process L1 by bytes, query-result cache, GET-response cache | perfect21-lru ([`profiles`], [`query_cache`], [`response_cache`]) |
//! | concurrent profile misses → one `WHERE id = ANY($1)` | perfect21-batch ([`profiles`]) |
//! | serialisation and work buffers | perfect21-object-pool ([`profiles`], [`report`]) |
//! | CPU-bound report off the runtime | perfect21-thread-pool ([`report`]) |
//! | host/process metrics, latency histograms, alert rules | perfect21-monitor ([`state`], [`middleware`]) |

pub mod config;
pub mod db;
pub mod handlers;
pub mod maintenance;
pub mod metrics;
pub mod middleware;
pub mod profiles;
pub mod query_cache;
pub mod report;
pub mod response_cache;
pub mod schema;
pub mod state;
pub mod upstream;

use std::net::SocketAddr;

use anyhow::{Context, Result};
use axum::Router;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};

pub use config::Config;
pub use state::{App, SharedApp};

/// The router over a built [`App`].
pub fn router(app: SharedApp) -> Router {
    let mut tasks = get(handlers::tasks);
    if let Some(cache) = &app.response_cache {
        tasks = tasks.route_layer(axum::middleware::from_fn_with_state(
            cache.clone(),
            response_cache::response_cache,
        ));
    }
    Router::new()
        .route("/health", get(handlers::health))
        .route("/api/users/{id}", get(handlers::user))
        .route("/api/users/{id}/tasks", tasks)
        .route("/api/report", get(handlers::report))
        .route("/api/upstream/{id}", get(handlers::upstream))
        .route("/metrics", get(handlers::metrics))
        .route("/stats", get(handlers::stats))
        .layer(CompressionLayer::new().compress_when(
            SizeAbove::new(1024).and(tower_http::compression::predicate::NotForContentType::GRPC),
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.observe.clone(),
            middleware::observe,
        ))
        .with_state(app)
}

/// A started showcase.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The shared state (stats, caches).
    pub app: SharedApp,
    /// Whether this start seeded the tables (false when the seed was already there).
    pub seeded: bool,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    maintenance: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Serves until the server stops (it does not on its own).
    pub async fn wait(self) -> Result<()> {
        let result = self.server.await;
        self.maintenance.abort();
        result.context("server task")?.context("server")
    }

    /// Stops serving and the background tasks.
    pub async fn stop(self) {
        self.server.abort();
        self.maintenance.abort();
        self.app.monitor.stop().await;
    }
}

/// Builds everything, prepares the schema and seed, warms the caches and
/// starts serving on `127.0.0.1:{config.port}`.
pub async fn start(config: Config) -> Result<Running> {
    let every = config.maintenance_every;
    let (users, warm, port) = (config.users, config.warm, config.port);
    let app = App::build(config).await?;
    let seeded = schema::prepare(&app.db.primary, users).await?;
    if warm > 0 {
        let warmed = app
            .profiles
            .warm(warm.min(users))
            .await
            .context("warming the caches")?;
        tracing::info!(warmed, "caches warmed");
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    let addr = listener.local_addr()?;
    let routes = router(app.clone());
    let server = tokio::spawn(async move { axum::serve(listener, routes).await });
    let maintenance = tokio::spawn(maintenance::run(app.clone(), every));
    Ok(Running {
        addr,
        app,
        seeded,
        server,
        maintenance,
    })
}
