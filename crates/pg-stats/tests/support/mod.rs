//! Helpers shared by the integration tests (all against the real server
//! from `DATABASE_URL`, which `cargo xtask test` exports).
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicU32, Ordering};

use perfect21_pg_stats::{StatsPool, StatsPoolBuilder};

/// `DATABASE_URL`, or a panic telling to run `cargo xtask test`.
pub fn url() -> String {
    perfect21_testkit::env::database_url()
}

/// A name no other test (or earlier run) uses: `<prefix>_<pid>_<n>`.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A builder on `DATABASE_URL` with a small pool.
pub fn builder() -> StatsPoolBuilder {
    StatsPool::builder(&url()).max_size(4)
}

/// A plain tokio-postgres connection (not recorded) for setup and oracles.
pub async fn plain() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

/// Creates table `name (id int primary key, v text)` with ids 1..=rows.
pub async fn seeded_table(name: &str, rows: i32) {
    let c = plain().await;
    c.batch_execute(&format!(
        "CREATE TABLE {name} (id int PRIMARY KEY, v text NOT NULL);
         INSERT INTO {name} SELECT i, 'v' || i FROM generate_series(1, {rows}) i;"
    ))
    .await
    .unwrap();
}

/// `calls` that pg_stat_statements holds for exactly this (normalised) text
/// in the current database; 0 when absent.
pub async fn server_calls(c: &tokio_postgres::Client, query: &str) -> i64 {
    c.query_one(
        "SELECT coalesce(sum(calls), 0)::int8 FROM pg_stat_statements \
         WHERE query = $1 AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        &[&query],
    )
    .await
    .unwrap()
    .get(0)
}

pub mod gate;
pub mod lock;
