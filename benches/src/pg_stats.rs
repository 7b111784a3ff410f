//! Shared set-up for perfect21-pg-stats's bench and its pgbench measure:
//! the seeded table, and the two pools configured alike.

use perfect21_pg_stats::{RecyclingMethod, StatsPool};

/// The seeded table: `id int primary key, v text`, ids 1..=[`ROWS`].
pub const TABLE: &str = "pg_stats_bench";
/// Rows in [`TABLE`].
pub const ROWS: i32 = 10_000;
/// The primary-key lookup every row of the bench runs.
pub const SELECT: &str = "SELECT v FROM pg_stats_bench WHERE id = $1";

/// Creates and fills [`TABLE`] (idempotent).
pub async fn seed(url: &str) -> Result<(), tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let task = tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {TABLE} (id int PRIMARY KEY, v text NOT NULL);
             INSERT INTO {TABLE} SELECT i, md5(i::text) FROM generate_series(1, {ROWS}) i
             ON CONFLICT DO NOTHING;
             ANALYZE {TABLE};"
        ))
        .await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

/// A `StatsPool` of `size` connections. Recycling is `Fast` (deadpool's
/// default) in both pools, so the rows differ only by the recording.
pub fn stats_pool(url: &str, size: usize) -> StatsPool {
    StatsPool::builder(url)
        .max_size(size)
        .recycling_method(RecyclingMethod::Fast)
        .build()
        .expect("a valid DATABASE_URL")
}

/// The raw deadpool-postgres pool, configured like [`stats_pool`].
pub fn deadpool_pool(url: &str, size: usize) -> deadpool_postgres::Pool {
    let config: tokio_postgres::Config = url.parse().expect("a valid DATABASE_URL");
    let manager = deadpool_postgres::Manager::from_config(
        config,
        tokio_postgres::NoTls,
        deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Fast,
        },
    );
    deadpool_postgres::Pool::builder(manager)
        .max_size(size)
        .build()
        .expect("a pool")
}
