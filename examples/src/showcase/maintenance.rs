//! The periodic maintenance task (the original's `cache_cleanup_task`):
//! purge expired L1, query-cache and response-cache entries, trim the
//! object pools, clear temporary Redis keys with `SCAN` (never `KEYS`),
//! keep the request-log partitions (create next month's, drop old ones) and
//! log one aggregate row.

use std::time::Duration;

use anyhow::Result;

use super::state::SharedApp;

/// What one round did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Round {
    /// Expired cache entries purged.
    pub purged: usize,
    /// Temporary Redis keys removed.
    pub temporary_keys: u64,
    /// Request-log partitions dropped.
    pub partitions_dropped: i32,
}

/// One round.
pub async fn round(app: &SharedApp) -> Result<Round> {
    let mut done = Round::default();
    if let Some(l1) = &app.profiles.l1 {
        done.purged += l1.purge_expired();
    }
    if let Some(cache) = &app.query_cache {
        done.purged += cache.purge_expired();
    }
    if let Some(cache) = &app.response_cache {
        done.purged += cache.purge_expired();
    }
    app.profiles.buffers.trim(64);
    app.work_buffers.trim(2);
    if let Some(redis) = &app.profiles.redis {
        done.temporary_keys = redis.clear_prefix("tmp:").await.unwrap_or(0);
    }
    let client = app.db.primary.get().await?;
    done.partitions_dropped = client
        .query_one("SELECT request_log_maintain(3)", &[])
        .await?
        .get(0);
    let requests = i64::try_from(app.observe.total_requests()).unwrap_or(i64::MAX);
    let p99_us = app
        .monitor
        .snapshot()
        .get("request_latency_seconds_p99")
        .map_or(0, |s| (s * 1e6) as i64);
    client
        .execute(
            "INSERT INTO request_log (at, route, requests, p99_us) VALUES (now(), 'all', $1, $2)",
            &[&requests, &p99_us],
        )
        .await?;
    Ok(done)
}

/// Runs [`round`] every `every` until the app is dropped elsewhere.
pub async fn run(app: SharedApp, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        interval.tick().await;
        match round(&app).await {
            Ok(done) => tracing::debug!(?done, "maintenance round"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "maintenance round failed"),
        }
    }
}
