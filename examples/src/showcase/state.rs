//! Everything the handlers share, built once at start from the [`Config`].

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow};
use perfect21_monitor::{AlertRule, Monitor, MonitorHandle, Registry, SampleKinds, TracingSink};
use perfect21_object_pool::{ObjectPool, Reset};
use perfect21_redis_cache::RedisCache;
use perfect21_thread_pool::{RejectionPolicy, ThreadPool};
use serde_json::{Value, json};

use super::config::Config;
use super::db::{Db, SharedDb};
use super::middleware::{self, Observe};
use super::profiles::{self, Profiles};
use super::query_cache::QueryCache;
use super::response_cache::ResponseCache;
use super::upstream::Upstreams;

/// The routes, for the per-route instruments.
pub const ROUTES: [&str; 7] = [
    "/health",
    "/api/users/{id}",
    "/api/users/{id}/tasks",
    "/api/report",
    "/api/upstream/{id}",
    "/metrics",
    "/stats",
];

/// The shared state.
#[derive(Debug)]
pub struct App {
    /// As started.
    pub config: Config,
    /// Postgres.
    pub db: SharedDb,
    /// The profile tiers.
    pub profiles: Profiles,
    /// Query results of `/api/users/{id}/tasks` (None with caching off).
    pub query_cache: Option<QueryCache>,
    /// GET responses (None with caching off).
    pub response_cache: Option<Arc<ResponseCache>>,
    /// Upstream replicas.
    pub upstreams: Upstreams,
    /// CPU-bound work.
    pub cpu: ThreadPool,
    /// 64 KiB work buffers for the report.
    pub work_buffers: ObjectPool<Vec<u8>>,
    /// Host/process metrics, latency histograms, alerts.
    pub monitor: MonitorHandle,
    /// Per-route instruments.
    pub observe: Arc<Observe>,
}

/// Shared state handle.
pub type SharedApp = Arc<App>;

fn vec_pool(
    capacity: usize,
    max_idle: usize,
    thread_cache: usize,
    grown_past: usize,
) -> Result<ObjectPool<Vec<u8>>> {
    ObjectPool::builder(move || Vec::with_capacity(capacity))
        .reset(Reset::reset)
        .validate(move |buffer: &Vec<u8>| buffer.capacity() <= grown_past)
        .max_idle(max_idle)
        .thread_cache(thread_cache)
        .build()
        .map_err(|e| anyhow!("object pool: {e}"))
}

impl App {
    /// Connects, builds every part (not yet serving). Needs a tokio runtime.
    pub async fn build(config: Config) -> Result<SharedApp> {
        let db = Arc::new(Db::new(
            &config.database_url,
            &config.replica_url,
            config.db_pool,
        )?);
        let buffers = vec_pool(1024, 256, 8, 64 * 1024)?;
        let (l1, redis, batcher) = if config.cache {
            let redis = RedisCache::builder()
                .url(config.redis_url.clone())
                .namespace("showcase")
                .default_ttl(config.redis_ttl)
                .command_timeout(Duration::from_millis(500))
                .build()
                .await
                .map_err(|e| anyhow!("redis cache: {e}"))?;
            (
                Some(Arc::new(profiles::l1(config.l1_bytes, config.l1_ttl)?)),
                Some(redis),
                Some(profiles::batcher(db.clone())?),
            )
        } else {
            (None, None, None)
        };
        let registry = Registry::new();
        let observe = Arc::new(Observe::new(&registry, &ROUTES, config.slow_request)?);
        let monitor = Monitor::builder()
            .interval(Duration::from_secs(1))
            .system(SampleKinds {
                cpu: true,
                memory: true,
                load: true,
                process: true,
                ..SampleKinds::none()
            })
            .registry(registry)
            .api_metrics(
                middleware::REQUESTS,
                middleware::ERRORS,
                middleware::LATENCY,
            )
            .rules(AlertRule::defaults())
            .rule(
                AlertRule::above("p99_over_10ms", "request_latency_seconds_p99", 0.010)
                    .for_duration(Duration::from_secs(5)),
            )
            .rule(
                AlertRule::above("rss_over_64mb", "process_resident_memory_bytes", 64e6)
                    .for_duration(Duration::from_secs(5)),
            )
            .sink(TracingSink)
            .build()
            .map_err(|e| anyhow!("monitor: {e}"))?
            .spawn();
        let cache = config.cache;
        Ok(Arc::new(App {
            profiles: Profiles::new(db.clone(), l1, redis, batcher, buffers)?,
            query_cache: cache
                .then(|| QueryCache::new(4 << 20, Duration::from_secs(5)))
                .transpose()?,
            response_cache: cache
                .then(|| ResponseCache::new(4 << 20).map(Arc::new))
                .transpose()?,
            upstreams: Upstreams::new(&config.upstreams)?,
            cpu: ThreadPool::builder()
                .min_threads(1)
                .max_threads(4)
                .keep_alive(Duration::from_secs(10))
                .queue_capacity(1024)
                .rejection(RejectionPolicy::Reject)
                .thread_name("showcase-cpu")
                .build()
                .map_err(|e| anyhow!("thread pool: {e}"))?,
            // Taken on runtime threads, returned on the pool's: no thread
            // cache, so every returned buffer reaches the shared stack.
            work_buffers: vec_pool(super::report::PAYLOAD + 256, 16, 0, 1 << 20)?,
            monitor,
            observe,
            db,
            config,
        }))
    }

    /// Every crate's stats, as one JSON document (`/stats`, and the source
    /// of `/metrics`). `null` where a part is off (`--no-cache`).
    pub fn stats(&self) -> Value {
        let to = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
        let opt = |v: Option<Result<Value, serde_json::Error>>| v.map_or(Value::Null, to);
        json!({
            "lru": {
                "l1": opt(self.profiles.l1.as_ref().map(|c| serde_json::to_value(c.stats()))),
                "query_cache": opt(self.query_cache.as_ref().map(|c| serde_json::to_value(c.stats()))),
                "response_cache": opt(self.response_cache.as_ref().map(|c| serde_json::to_value(c.stats()))),
            },
            "redis_cache": opt(self.profiles.redis.as_ref().map(|c| serde_json::to_value(c.stats()))),
            "batch": if self.config.cache {
                json!({
                    "redis_mget": opt(self.profiles.redis_reads.as_ref().map(|b| serde_json::to_value(b.stats()))),
                    "users_by_id": opt(self.profiles.batcher.as_ref().map(|b| serde_json::to_value(b.stats()))),
                })
            } else {
                Value::Null
            },
            "pg_stats": {
                "primary": to(serde_json::to_value(self.db.primary.stats())),
                "replica": to(serde_json::to_value(self.db.replica.stats())),
            },
            "balancer": {
                "postgres": to(serde_json::to_value(self.db.balancer.stats())),
                "upstream": opt(self.upstreams.balancer.as_ref().map(|b| serde_json::to_value(b.stats()))),
            },
            "thread_pool": to(serde_json::to_value(self.cpu.stats())),
            "object_pool": {
                "serialization": to(serde_json::to_value(self.profiles.buffers.stats())),
                "work": to(serde_json::to_value(self.work_buffers.stats())),
            },
            "monitor": {
                "stats": to(serde_json::to_value(self.monitor.stats())),
                "process_resident_memory_bytes": self.monitor.snapshot().get("process_resident_memory_bytes"),
                "process_cpu_percent": self.monitor.snapshot().get("process_cpu_percent"),
            },
            "mode": if self.config.cache { "cache" } else { "no-cache" },
        })
    }
}
