//! Pool behaviour: waits and acquire timeouts, `max_lifetime`, connection
//! set-up time, session settings, health check, reset.

mod support;

use std::time::Duration;

use perfect21_pg_stats::{Error, StatsPool};
use support::{builder, url};

async fn backend_pid(pool: &StatsPool) -> i32 {
    let c = pool.get().await.unwrap();
    c.raw()
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn exhaustion_records_wait_and_counts_timeout() {
    let pool = builder()
        .max_size(1)
        .wait_timeout(Some(Duration::from_millis(50)))
        .build()
        .unwrap();
    let held = pool.get().await.unwrap();
    let err = pool.get().await.unwrap_err();
    assert!(matches!(err, Error::AcquireTimeout("wait")), "{err:?}");

    // A waiter that gets the connection once it is released.
    let waiter = {
        let pool = pool.clone();
        tokio::spawn(async move { pool.get().await.map(drop) })
    };
    while pool.pool_stats().waiting == 0 {
        tokio::task::yield_now().await;
    }
    let s = pool.pool_stats();
    assert_eq!((s.size, s.in_use, s.idle, s.waiting), (1, 1, 0, 1));
    drop(held);
    waiter.await.unwrap().unwrap();

    let s = pool.pool_stats();
    assert_eq!(s.acquire_timeouts, 1);
    assert_eq!(s.acquired, 2);
    // The timed-out wait is a sample too.
    assert_eq!(s.acquire_wait.count, 3);
    assert_eq!(s.waiting, 0);
    assert_eq!(s.created, 1);
    assert_eq!(s.recycled, 1);
    assert_eq!(s.connect_time.count, 1);
    assert!(s.connect_time.max > Duration::ZERO);
}

#[tokio::test]
async fn max_lifetime_retires_connections() {
    let short = builder()
        .max_size(1)
        .max_lifetime(Some(Duration::from_nanos(1)))
        .build()
        .unwrap();
    let a = backend_pid(&short).await;
    let b = backend_pid(&short).await;
    assert_ne!(a, b, "an expired connection must be replaced");
    let s = short.pool_stats();
    // Each closed as it came back.
    assert_eq!(s.closed.max_lifetime, 2);
    assert_eq!(s.created, 2);

    let long = builder().max_size(1).build().unwrap();
    let a = backend_pid(&long).await;
    let b = backend_pid(&long).await;
    assert_eq!(a, b, "a young connection is reused");
    assert_eq!(long.pool_stats().closed.max_lifetime, 0);
}

/// The docs promise that a connection past `max_lifetime` is closed when it
/// comes back — not at the next checkout, where the caller would pay for it.
#[tokio::test]
async fn max_lifetime_closes_a_connection_when_it_comes_back() {
    let pool = builder()
        .max_size(1)
        .max_lifetime(Some(Duration::from_nanos(1)))
        .build()
        .unwrap();
    let client = pool.get().await.unwrap();
    client
        .query("SELECT 1 AS max_lifetime_on_return", &[])
        .await
        .unwrap();
    drop(client);
    let s = pool.pool_stats();
    assert_eq!(
        (s.size, s.idle, s.closed.max_lifetime),
        (0, 0, 1),
        "closed on return: {s:?}"
    );
    // The next caller gets a new connection and closes nothing at checkout.
    let client = pool.get().await.unwrap();
    let s = pool.pool_stats();
    assert_eq!((s.created, s.recycled, s.closed.max_lifetime), (2, 0, 1));
    drop(client);
}

#[tokio::test]
async fn session_settings_reach_the_server() {
    let pool = builder()
        .application_name("pg-stats-test")
        .session_setting("jit", "off")
        .session_setting("search_path", "public, pg_catalog")
        .build()
        .unwrap();
    let c = pool.get().await.unwrap();
    let show = |name: &'static str| {
        let c = &c;
        async move {
            c.raw()
                .query_one(&format!("SHOW {name}"), &[])
                .await
                .unwrap()
                .get::<_, String>(0)
        }
    };
    assert_eq!(show("application_name").await, "pg-stats-test");
    assert_eq!(show("jit").await, "off");
    assert_eq!(show("search_path").await, "public, pg_catalog");
}

#[tokio::test]
async fn bad_configuration_is_refused_naming_the_field() {
    let field = |b: perfect21_pg_stats::StatsPoolBuilder| match b.build() {
        Err(Error::Config { field, .. }) => field,
        other => panic!("expected a config error, got {other:?}"),
    };
    assert_eq!(field(builder().max_size(0)), "max_size");
    assert_eq!(
        field(builder().wait_timeout(Some(Duration::ZERO))),
        "wait_timeout"
    );
    assert_eq!(
        field(builder().max_lifetime(Some(Duration::ZERO))),
        "max_lifetime"
    );
    assert_eq!(
        field(builder().statement_timeout(Duration::from_micros(10))),
        "statement_timeout"
    );
    assert_eq!(field(builder().max_statements(0)), "max_statements");
    assert_eq!(
        field(builder().application_name("x".repeat(64))),
        "application_name"
    );
    assert_eq!(
        field(builder().session_setting("jit; drop", "off")),
        "session_setting"
    );
    assert_eq!(
        field(StatsPool::builder("postgres://u:hunter2@h:notaport/db")),
        "url"
    );
}

#[tokio::test]
async fn the_password_never_shows() {
    let bad = StatsPool::builder("postgres://u:hunter2@h:notaport/db");
    assert!(!format!("{bad:?}").contains("hunter2"));
    let err = bad.build().unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");

    // A server that refuses: the connect error has no password either.
    let pool = StatsPool::builder("postgres://u:hunter2@127.0.0.1:1/db")
        .create_timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    assert!(!format!("{pool:?}").contains("hunter2"));
    let err = pool.get().await.unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
    let s = pool.pool_stats();
    assert_eq!((s.acquire_errors, s.create_errors, s.created), (1, 1, 0));
}

#[tokio::test]
async fn from_deadpool_config() {
    let mut cfg = deadpool_postgres::Config::new();
    cfg.url = Some(url());
    cfg.pool = Some(deadpool_postgres::PoolConfig::new(2));
    let pool = StatsPool::builder_from_config(cfg).build().unwrap();
    assert_eq!(pool.pool_stats().max_size, 2);
    let c = pool.get().await.unwrap();
    c.query("SELECT 1 AS from_deadpool_config", &[])
        .await
        .unwrap();
    drop(c);
    assert_eq!(
        pool.stats()
            .statement("SELECT $1 AS from_deadpool_config")
            .unwrap()
            .calls,
        1
    );
}

#[tokio::test]
async fn health_check_and_reset() {
    let pool = builder().build().unwrap();
    pool.health_check(Duration::from_secs(10)).await.unwrap();
    let c = pool.get().await.unwrap();
    c.query("SELECT 2 AS health_and_reset", &[]).await.unwrap();
    drop(c);
    let key = "SELECT $1 AS health_and_reset";
    assert_eq!(pool.stats().statement(key).unwrap().calls, 1);
    pool.reset_stats();
    let stats = pool.stats();
    assert_eq!(stats.statement(key).unwrap().calls, 0);
    assert_eq!(stats.statement(key).unwrap().latency.count, 0);
    assert_eq!(stats.pool.acquired, 0);
    let c = pool.get().await.unwrap();
    c.query("SELECT 3 AS health_and_reset", &[]).await.unwrap();
    assert_eq!(pool.stats().statement(key).unwrap().calls, 1);
}

#[cfg(feature = "serde")]
#[tokio::test]
async fn stats_serialize() {
    let pool = builder().build().unwrap();
    let c = pool.get().await.unwrap();
    c.query("SELECT 1 AS serialized", &[]).await.unwrap();
    let json = serde_json::to_value(pool.stats()).unwrap();
    assert_eq!(
        json["statements"][0]["statement"],
        "SELECT $1 AS serialized"
    );
    assert_eq!(json["statements"][0]["calls"], 1);
    assert_eq!(json["pool"]["acquired"], 1);
}
