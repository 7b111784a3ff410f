//! Slow queries: a `tracing` warning with the normalised SQL, duration,
//! rows and SQLSTATE — never the parameter values unless asked — and a
//! bounded ring of recent ones.

mod support;

use std::time::Duration;

use perfect21_pg_stats::SLOW_QUERY_TARGET;
use perfect21_testkit::logs::Captured;
use support::builder;

const SECRET: &str = "alice@example.com-4111111111111111";

#[tokio::test]
async fn slow_queries_are_logged_without_values() {
    let captured = Captured::default();
    let _guard = captured.install();
    let pool = builder()
        .slow_threshold(Duration::from_millis(30))
        .slow_log_capacity(2)
        .build()
        .unwrap();
    let client = pool.get().await.unwrap();
    // Fast: not logged.
    client
        .query("SELECT $1::text AS fast_one", &[&SECRET])
        .await
        .unwrap();
    // Slow, with a parameter and a literal holding personal data.
    for _ in 0..3 {
        client
            .query(
                &format!("SELECT pg_sleep(0.05), $1::text, '{SECRET}' AS slow_one"),
                &[&SECRET],
            )
            .await
            .unwrap();
    }
    // Slow and failing.
    let sleepy_error = "SELECT 1/(random()*0)::int AS slow_error FROM pg_sleep(0.05)";
    client.query(sleepy_error, &[]).await.unwrap_err();

    let log = captured.text();
    assert!(!log.contains(SECRET), "a value leaked into the log:\n{log}");
    assert!(!log.contains("fast_one"), "a fast query was logged:\n{log}");
    assert_eq!(log.matches("slow query").count(), 4, "{log}");
    assert!(log.contains(SLOW_QUERY_TARGET));
    assert!(
        log.contains("SELECT pg_sleep($2), $1::text, $3 AS slow_one"),
        "{log}"
    );
    assert!(log.contains("sqlstate=\"22012\""), "{log}");
    assert_eq!(
        log.matches("sqlstate=").count(),
        1,
        "only the failed one: {log}"
    );
    assert!(!log.contains("parameters="), "{log}");

    let ring = pool.slow_queries();
    assert_eq!(ring.len(), 2, "the ring keeps the last 2");
    assert_eq!(
        ring[1].statement,
        "SELECT $1/(random()*$2)::int AS slow_error FROM pg_sleep($3)"
    );
    assert_eq!(ring[1].sqlstate.as_deref(), Some("22012"));
    assert_eq!(ring[0].rows, 1);
    assert!(ring[0].duration >= Duration::from_millis(30));
    assert!(ring.iter().all(|q| q.parameters.is_none()));
    assert_eq!(pool.stats().slow_queries, 4);
}

#[tokio::test]
async fn parameter_values_only_when_enabled() {
    let captured = Captured::default();
    let _guard = captured.install();
    let pool = builder()
        .slow_threshold(Duration::ZERO)
        .log_parameters(true)
        .build()
        .unwrap();
    let client = pool.get().await.unwrap();
    client
        .query("SELECT $1::text AS with_values", &[&"visible-value"])
        .await
        .unwrap();
    assert!(captured.text().contains("visible-value"));
    let ring = pool.slow_queries();
    assert_eq!(
        ring[0].parameters.as_deref(),
        Some(&["\"visible-value\"".to_owned()][..])
    );
}
