//! A private server killed and restarted mid-test: errors are counted, the
//! pool recovers. And `ExtensionMissing` is not needed here: see server.rs.

use std::time::Duration;

use perfect21_pg_stats::{Error, StatsPool};
use perfect21_testkit::PgServer;

#[tokio::test]
async fn pool_recovers_after_a_server_restart() {
    let mut server = PgServer::start().unwrap();
    let pool = StatsPool::builder(&server.url())
        .max_size(2)
        .create_timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    let sql = "SELECT 1 AS restart_probe";
    let key = "SELECT $1 AS restart_probe";
    let held = pool.get().await.unwrap();
    held.query(sql, &[]).await.unwrap();

    server.kill();
    // The connection held across the crash fails: counted as an error.
    assert!(held.query(sql, &[]).await.is_err());
    drop(held);
    // While the server is down, get() fails to connect (the broken
    // connection is discarded at recycle) and the health check fails.
    assert!(matches!(pool.get().await, Err(Error::Connect(_))));
    assert!(pool.health_check(Duration::from_secs(5)).await.is_err());

    server.start_again().unwrap();
    let c = pool.get().await.unwrap();
    c.query(sql, &[]).await.unwrap();
    drop(c);
    pool.health_check(Duration::from_secs(5)).await.unwrap();

    let stats = pool.stats();
    let row = stats.statement(key).unwrap();
    assert_eq!((row.calls, row.errors), (3, 1));
    assert_eq!(row.errors_by_class.values().sum::<u64>(), 1);
    assert_eq!(stats.pool.closed.broken, 1, "{:?}", stats.pool);
    assert!(stats.pool.acquire_errors >= 2, "{:?}", stats.pool);
    assert_eq!(stats.pool.created, 2);
}
