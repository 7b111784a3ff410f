//! Errors are counted per statement by SQLSTATE class; `statement_timeout`
//! cancellations are counted as timeouts.

mod support;

use std::time::Duration;

use perfect21_pg_stats::tokio_postgres::error::SqlState;
use support::{builder, seeded_table, unique};

#[tokio::test]
async fn unique_violation_and_syntax_error_by_class() {
    let t = unique("errs");
    seeded_table(&t, 3).await;
    let pool = builder().build().unwrap();
    let client = pool.get().await.unwrap();
    let insert = format!("INSERT INTO {t} (id, v) VALUES ($1, $2)");
    client.execute(&insert, &[&10i32, &"a"]).await.unwrap();
    for _ in 0..2 {
        let e = client.execute(&insert, &[&1i32, &"dup"]).await.unwrap_err();
        assert_eq!(e.code(), Some(&SqlState::UNIQUE_VIOLATION));
    }
    let bad = format!("SELEC v FROM {t}");
    let e = client.query(&bad, &[]).await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::SYNTAX_ERROR));
    // query_one with no row: an error without SQLSTATE.
    let none = format!("SELECT v FROM {t} WHERE id = $1");
    client.query_one(&none, &[&-1i32]).await.unwrap_err();

    let stats = pool.stats();
    let i = stats.statement(&insert).unwrap();
    assert_eq!((i.calls, i.errors, i.rows), (3, 2, 1));
    assert_eq!(i.errors_by_class.get("23"), Some(&2));
    assert_eq!(i.errors_by_class.len(), 1);
    let s = stats.statement(&bad).unwrap();
    assert_eq!((s.calls, s.errors), (1, 1));
    assert_eq!(s.errors_by_class.get("42"), Some(&1));
    let n = stats.statement(&none).unwrap();
    assert_eq!(n.errors_by_class.get("client"), Some(&1));
    assert_eq!(n.timeouts, 0);
}

#[tokio::test]
async fn statement_timeout_is_counted() {
    let pool = builder()
        .statement_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let client = pool.get().await.unwrap();
    let sql = "SELECT pg_sleep(5), 'statement_timeout_is_counted'";
    let e = client.query(sql, &[]).await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::QUERY_CANCELED));
    let shown: String = client
        .query_one("SHOW statement_timeout", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(shown, "50ms");
    let stats = pool.stats();
    let row = stats.statement("SELECT pg_sleep($1), $2").unwrap();
    assert_eq!((row.calls, row.errors, row.timeouts), (1, 1, 1));
    assert_eq!(row.errors_by_class.get("57"), Some(&1));
}
