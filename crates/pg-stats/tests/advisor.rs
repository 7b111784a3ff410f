//! The advisor against the real server: `ALTER SYSTEM` statements with
//! reasons, unused indexes, tables read by sequential scans — and nothing
//! applied.

mod support;

use perfect21_pg_stats::{IndexAdvice, StorageKind};
use support::{builder, unique};

const GIB: u64 = 1 << 30;

#[tokio::test]
async fn advice_is_given_and_never_applied() {
    let t = unique("advice");
    // One connection: the table's statistics are flushed by the same
    // backend the advisor then reads through.
    let pool = builder().max_size(1).build().unwrap();
    let c = pool.get().await.unwrap();
    let raw = c.raw();
    raw.batch_execute(&format!(
        "CREATE TABLE {t} (id int PRIMARY KEY, v int NOT NULL);
         CREATE INDEX {t}_v_idx ON {t} (v);
         INSERT INTO {t} SELECT i, i % 100 FROM generate_series(1, 20000) i;
         ANALYZE {t};"
    ))
    .await
    .unwrap();
    for _ in 0..3 {
        // A sequential scan (no index on the expression).
        raw.query_one(&format!("SELECT count(*) FROM {t} WHERE v + 1 = 5"), &[])
            .await
            .unwrap();
    }
    raw.query_one("SELECT pg_stat_force_next_flush()", &[])
        .await
        .unwrap();
    raw.batch_execute("SELECT 1").await.unwrap();
    let show = |name: &'static str| async move {
        raw.query_one(&format!("SHOW {name}"), &[])
            .await
            .unwrap()
            .get::<_, String>(0)
    };
    let before = (show("shared_buffers").await, show("random_page_cost").await);
    let auto_conf: i64 = raw
        .query_one(
            "SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    drop(c);

    let advice = pool
        .server_stats()
        .advise(64 * GIB, StorageKind::Ssd)
        .await
        .unwrap();

    let sb = advice
        .settings
        .iter()
        .find(|a| a.name == "shared_buffers")
        .expect("the test server runs with a small shared_buffers");
    assert_eq!(sb.recommended, "16GB");
    assert_eq!(sb.statement, "ALTER SYSTEM SET shared_buffers = '16GB';");
    assert!(sb.needs_restart && !sb.reason.is_empty());
    assert!(
        advice
            .settings
            .iter()
            .all(|a| a.statement.starts_with("ALTER SYSTEM SET "))
    );

    let index = format!("public.{t}_v_idx");
    assert!(
        advice
            .indexes
            .iter()
            .any(|i| matches!(i, IndexAdvice::Unused { index: name, .. } if *name == index)),
        "{:#?}",
        advice.indexes
    );
    assert!(
        !advice.indexes.iter().any(|i| matches!(i, IndexAdvice::Unused { index: name, .. } if *name == format!("public.{t}_pkey"))),
        "primary keys are never advised away"
    );
    let table = format!("public.{t}");
    assert!(
        advice.indexes.iter().any(|i| matches!(i,
            IndexAdvice::MostlySequential { table: name, seq_scan, .. } if *name == table && *seq_scan >= 3)),
        "{:#?}",
        advice.indexes
    );

    // Nothing was applied.
    let c = pool.get().await.unwrap();
    let raw = c.raw();
    let show = |name: &'static str| async move {
        raw.query_one(&format!("SHOW {name}"), &[])
            .await
            .unwrap()
            .get::<_, String>(0)
    };
    assert_eq!(
        before,
        (show("shared_buffers").await, show("random_page_cost").await)
    );
    let after: i64 = raw
        .query_one(
            "SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(auto_conf, after);
}

/// The advised `DROP INDEX` runs as given, whatever the names: mixed case,
/// spaces, a quote.
#[tokio::test]
async fn drop_index_advice_quotes_identifiers() {
    let n = unique("x");
    let schema = format!("Advice Schema {n}");
    let table = "Some \"Table\"";
    let index = "Mixed Case Idx";
    let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let pool = builder().max_size(1).build().unwrap();
    let c = pool.get().await.unwrap();
    c.raw()
        .batch_execute(&format!(
            "CREATE SCHEMA {s}; CREATE TABLE {s}.{t} (v int); CREATE INDEX {i} ON {s}.{t} (v);",
            s = quote(&schema),
            t = quote(table),
            i = quote(index),
        ))
        .await
        .unwrap();
    drop(c);

    let advice = pool
        .server_stats()
        .advise(64 * GIB, StorageKind::Ssd)
        .await
        .unwrap();
    let statement = advice
        .indexes
        .iter()
        .find_map(|i| match i {
            IndexAdvice::Unused {
                index: name,
                statement,
                ..
            } if *name == format!("{schema}.{index}") => Some(statement.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no advice for the index: {:#?}", advice.indexes));
    let c = pool.get().await.unwrap();
    let ran = c.raw().batch_execute(&statement).await;
    let left: i64 = c
        .raw()
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = $1",
            &[&schema],
        )
        .await
        .unwrap()
        .get(0);
    c.raw()
        .batch_execute(&format!("DROP SCHEMA {} CASCADE", quote(&schema)))
        .await
        .unwrap();
    ran.unwrap_or_else(|e| panic!("`{statement}` failed: {e}"));
    assert_eq!(left, 0, "`{statement}` dropped the index");
}
