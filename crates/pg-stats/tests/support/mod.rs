//! Helpers shared by the integration tests (all against the real server
//! from `DATABASE_URL`, which `cargo xtask test` exports).
#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

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

/// A `tracing` subscriber writing plain text into a shared buffer.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        let buf = self.clone();
        tracing_subscriber::fmt()
            .with_writer(move || buf.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish()
    }
}

impl Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub mod gate;
pub mod lock;
