//! Server statistics from the installed server: top statements with the
//! version's columns, pg_stat_statements_info, pg_stat_database,
//! pg_stat_activity, the client/server join; `ExtensionMissing` on a
//! database without the extension.

mod support;

use perfect21_pg_stats::{Error, StatsPool, TopOrder};
use support::{builder, seeded_table, unique};

#[tokio::test]
async fn top_statements_and_the_join() {
    let t = unique("server");
    seeded_table(&t, 20).await;
    let pool = builder().build().unwrap();
    let client = pool.get().await.unwrap();
    for id in 1..=7 {
        client
            .query(&format!("SELECT v FROM {t} WHERE id = {id}"), &[])
            .await
            .unwrap();
    }
    drop(client);
    let server = pool.server_stats();
    assert!(server.server_version_num().await.unwrap() >= 100_000);

    let key = format!("SELECT v FROM {t} WHERE id = $1");
    let top = server
        .top_statements(TopOrder::Calls, 100_000)
        .await
        .unwrap();
    let row = top.iter().find(|s| s.query == key).expect("our statement");
    assert_eq!(row.calls, 7);
    assert_eq!(row.rows, 7);
    assert!(row.total_time_ms >= row.max_time_ms && row.max_time_ms >= row.min_time_ms);
    let by_calls: Vec<i64> = top.iter().map(|s| s.calls).collect();
    assert!(
        by_calls.windows(2).all(|w| w[0] >= w[1]),
        "ordered by calls"
    );
    assert!(
        server
            .top_statements(TopOrder::TotalTime, 3)
            .await
            .unwrap()
            .len()
            <= 3
    );
    assert!(
        !server
            .top_statements(TopOrder::MeanTime, 5)
            .await
            .unwrap()
            .is_empty()
    );

    let joined = server.joined(100_000).await.unwrap();
    let j = joined
        .iter()
        .find(|j| j.client.statement == key)
        .expect("joined");
    assert_eq!(j.client.calls as i64, j.server.calls);
    assert!(
        j.client_to_server_ratio() > 1.0,
        "client time includes the round trip"
    );
}

#[tokio::test]
async fn database_activity_and_info() {
    let pool = builder().build().unwrap();
    let server = pool.server_stats();
    let held = pool.get().await.unwrap();
    let db = server.database().await.unwrap();
    assert_eq!(db.database, "perfect21");
    assert!(db.commits > 0 && db.backends >= 1);
    let ratio = db.cache_hit_ratio();
    assert!((0.0..=1.0).contains(&ratio));
    let states = server.connections().await.unwrap();
    // This query's own backend is active; `held` is idle.
    assert!(
        states.get("active").copied().unwrap_or(0) >= 1,
        "{states:?}"
    );
    assert!(states.get("idle").copied().unwrap_or(0) >= 1, "{states:?}");
    drop(held);
    if server.server_version_num().await.unwrap() >= 140_000 {
        let info = server.statements_info().await.unwrap().unwrap();
        assert!(info.dealloc >= 0);
        assert!(!info.stats_reset.is_empty());
    }
}

#[tokio::test]
async fn extension_missing_says_how_to_enable_it() {
    let server = perfect21_testkit::PgServer::start().unwrap();
    let url = server.create_database("no_pgss").unwrap();
    let pool = StatsPool::builder(&url).max_size(1).build().unwrap();
    let err = pool
        .server_stats()
        .top_statements(TopOrder::TotalTime, 5)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ExtensionMissing), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("shared_preload_libraries"), "{message}");
    assert!(
        message.contains("CREATE EXTENSION pg_stat_statements"),
        "{message}"
    );
    // The rest still works without the extension.
    assert_eq!(
        pool.server_stats().database().await.unwrap().database,
        "no_pgss"
    );
}

/// pg_stat_statements keeps one row per (user, database, query, toplevel):
/// the same statement run by two roles is two rows, and both count.
#[tokio::test]
async fn rows_of_several_roles_are_summed() {
    let server = perfect21_testkit::PgServer::start().unwrap();
    server
        .psql(
            "postgres",
            "CREATE ROLE first_role LOGIN IN ROLE pg_read_all_stats; \
             CREATE ROLE second_role LOGIN;",
        )
        .unwrap();
    let url_as = |role: &str| {
        server
            .url()
            .replace("postgres://postgres@", &format!("postgres://{role}@"))
    };
    let sql = "SELECT 41 + 1 AS several_roles";
    let key = "SELECT $1 + $2 AS several_roles";

    // Three calls as the first role, recorded by its pool too.
    let first = StatsPool::builder(&url_as("first_role"))
        .max_size(1)
        .build()
        .unwrap();
    let client = first.get().await.unwrap();
    for _ in 0..3 {
        client.query(sql, &[]).await.unwrap();
    }
    drop(client);
    // Four as the second role.
    let (second, connection) =
        tokio_postgres::connect(&url_as("second_role"), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    for _ in 0..4 {
        second.query(sql, &[]).await.unwrap();
    }

    let admin = StatsPool::builder(&server.url())
        .max_size(1)
        .build()
        .unwrap();
    let top = admin
        .server_stats()
        .top_statements(TopOrder::Calls, 1000)
        .await
        .unwrap();
    let rows: Vec<_> = top.iter().filter(|s| s.query == key).collect();
    assert_eq!(rows.len(), 1, "one row per statement: {rows:#?}");
    assert_eq!(rows[0].calls, 7);
    assert_eq!(rows[0].rows, 7);
    assert!(rows[0].total_time_ms >= rows[0].max_time_ms);
    let mean = rows[0].total_time_ms / 7.0;
    assert!(
        (rows[0].mean_time_ms - mean).abs() <= mean * 1e-9,
        "{:?}",
        rows[0]
    );

    let joined = first.server_stats().joined(1000).await.unwrap();
    let j = joined
        .iter()
        .find(|j| j.client.statement == key)
        .expect("joined");
    assert_eq!((j.client.calls, j.server.calls), (3, 7));
}
