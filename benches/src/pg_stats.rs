//! Shared set-up for perfect21-pg-stats's bench and its pgbench measure:
//! the seeded table, and the two pools configured alike.

use std::time::Duration;

use perfect21_pg_stats::{RecyclingMethod, StatsPool};

/// The seeded table: `id int primary key, v text`, ids 1..=[`ROWS`].
pub const TABLE: &str = "pg_stats_bench";
/// Rows in [`TABLE`].
pub const ROWS: i32 = 10_000;
/// The primary-key lookup every row of the bench runs.
pub const SELECT: &str = "SELECT v FROM pg_stats_bench WHERE id = $1";

/// The recycling methods every pool comparison runs: deadpool-postgres's
/// default (`Fast`: no round trip at checkout) and StatsPool's default
/// (`Verified`: one round trip, like SQLAlchemy's `pool_pre_ping`).
pub const METHODS: [(&str, RecyclingMethod); 2] = [
    ("fast", RecyclingMethod::Fast),
    ("verified", RecyclingMethod::Verified),
];

/// StatsPool's default timeouts, given to both pools: a timeout costs a
/// timer per waiting `get()`, so the pools pay alike.
const WAIT: Duration = Duration::from_secs(30);
const CREATE: Duration = Duration::from_secs(10);
const RECYCLE: Duration = Duration::from_secs(5);

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

/// A `StatsPool` of `size` connections recycled with `method`.
pub fn stats_pool(url: &str, size: usize, method: RecyclingMethod) -> StatsPool {
    StatsPool::builder(url)
        .max_size(size)
        .recycling_method(method)
        .wait_timeout(Some(WAIT))
        .create_timeout(Some(CREATE))
        .recycle_timeout(Some(RECYCLE))
        .build()
        .expect("a valid DATABASE_URL")
}

/// The raw deadpool-postgres pool, configured like [`stats_pool`]: same
/// size, recycling method and timeouts; the rows differ only by the
/// recording.
pub fn deadpool_pool(url: &str, size: usize, method: RecyclingMethod) -> deadpool_postgres::Pool {
    let mut config: tokio_postgres::Config = url.parse().expect("a valid DATABASE_URL");
    if config.get_connect_timeout().is_none() {
        // As StatsPool does with its create timeout.
        config.connect_timeout(CREATE);
    }
    let manager = deadpool_postgres::Manager::from_config(
        config,
        tokio_postgres::NoTls,
        deadpool_postgres::ManagerConfig {
            recycling_method: method,
        },
    );
    deadpool_postgres::Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(WAIT))
        .create_timeout(Some(CREATE))
        .recycle_timeout(Some(RECYCLE))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .expect("a pool")
}
