//! The smoke check: proves that the servers `cargo xtask` provides are real
//! and reachable. Used by the `smoke` program (`cargo xtask demo` until the
//! showcase exists) and by the `services` integration test.

use std::fmt;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use redis::AsyncCommands;

/// The servers to check.
#[derive(Debug, Clone)]
pub struct Urls {
    /// Standalone Redis (`REDIS_URL`).
    pub redis: String,
    /// Every node of the Redis Cluster (`REDIS_CLUSTER_URLS`).
    pub cluster: Vec<String>,
    /// The Postgres database (`DATABASE_URL`).
    pub database: String,
}

/// One check and how it went.
#[derive(Debug)]
pub struct Check {
    /// What was checked, e.g. `redis SET/GET on redis://127.0.0.1:6379`.
    pub what: String,
    /// What was seen, or why it failed.
    pub outcome: Result<String, String>,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Ok(seen) => write!(f, "ok    {} → {seen}", self.what),
            Err(why) => write!(f, "FAIL  {} → {why}", self.what),
        }
    }
}

const TIMEOUT: Duration = Duration::from_secs(10);

/// Runs every check (each bounded by a timeout) and returns them all.
pub async fn run(urls: &Urls) -> Vec<Check> {
    let mut checks = vec![
        check(
            format!("redis SET/GET on {}", urls.redis),
            redis_set_get(&urls.redis),
        )
        .await,
    ];
    for url in &urls.cluster {
        checks.push(check(format!("redis cluster node {url}"), cluster_state(url)).await);
    }
    checks.push(
        check(
            format!("postgres SELECT 1 on {}", urls.database),
            postgres_select_1(&urls.database),
        )
        .await,
    );
    checks.push(
        check(
            format!("postgres pg_stat_statements on {}", urls.database),
            pg_stat_statements(&urls.database),
        )
        .await,
    );
    checks
}

async fn check(what: String, work: impl Future<Output = Result<String>>) -> Check {
    let outcome = match tokio::time::timeout(TIMEOUT, work).await {
        Ok(Ok(seen)) => Ok(seen),
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(_) => Err(format!("no answer within {TIMEOUT:?}")),
    };
    Check { what, outcome }
}

async fn redis_connection(url: &str) -> Result<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(url).context("bad Redis URL")?;
    client
        .get_multiplexed_async_connection()
        .await
        .context("cannot connect")
}

async fn redis_set_get(url: &str) -> Result<String> {
    let mut connection = redis_connection(url).await?;
    let key = format!("perfect21:smoke:{}", std::process::id());
    let value = format!("checked at {:?}", std::time::SystemTime::now());
    let _: () = connection.set_ex(&key, &value, 60).await?;
    let read: Option<String> = connection.get(&key).await?;
    let _: () = connection.del(&key).await?;
    if read.as_deref() != Some(value.as_str()) {
        bail!("wrote {value:?}, read back {read:?}");
    }
    Ok("value read back".into())
}

async fn cluster_state(url: &str) -> Result<String> {
    let mut connection = redis_connection(url).await?;
    let info: String = redis::cmd("CLUSTER")
        .arg("INFO")
        .query_async(&mut connection)
        .await?;
    let state = info
        .lines()
        .find_map(|l| l.strip_prefix("cluster_state:"))
        .map(str::trim)
        .context("CLUSTER INFO has no cluster_state")?;
    if state != "ok" {
        bail!("cluster_state:{state}");
    }
    Ok("cluster_state:ok".into())
}

async fn postgres_client(url: &str) -> Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("cannot connect")?;
    tokio::spawn(connection);
    Ok(client)
}

async fn postgres_select_1(url: &str) -> Result<String> {
    let client = postgres_client(url).await?;
    let one: i32 = client.query_one("SELECT 1", &[]).await?.get(0);
    if one != 1 {
        bail!("SELECT 1 returned {one}");
    }
    let version: String = client.query_one("SHOW server_version", &[]).await?.get(0);
    Ok(format!("1 (PostgreSQL {version})"))
}

async fn pg_stat_statements(url: &str) -> Result<String> {
    let client = postgres_client(url).await?;
    client
        .query("SELECT calls FROM pg_stat_statements LIMIT 1", &[])
        .await
        .context("pg_stat_statements is not usable")?;
    let tracked: i64 = client
        .query_one("SELECT count(*) FROM pg_stat_statements", &[])
        .await?
        .get(0);
    Ok(format!("readable, {tracked} statements tracked"))
}
