//! Per-statement statistics against the real server: every method records,
//! literals share a row, rows are counted, and the call counts equal
//! pg_stat_statements' for the same statements.

mod support;

use futures_util::TryStreamExt;
use perfect21_pg_stats::normalize;
use support::{builder, plain, seeded_table, server_calls, unique};

#[tokio::test]
async fn literals_share_one_row_and_rows_are_counted() {
    let t = unique("lit");
    seeded_table(&t, 10).await;
    let pool = builder().build().unwrap();
    let client = pool.get().await.unwrap();
    for id in [1, 2, 3, 99] {
        client
            .query(&format!("SELECT v FROM {t} WHERE id = {id}"), &[])
            .await
            .unwrap();
    }
    client
        .query(&format!("SELECT  v FROM {t}\n  WHERE id = 4"), &[])
        .await
        .unwrap();
    let stats = pool.stats();
    let row = stats
        .statement(&format!("SELECT v FROM {t} WHERE id = $1"))
        .unwrap();
    assert_eq!(row.calls, 5);
    assert_eq!(row.rows, 4, "ids 1..=4 exist, 99 does not");
    assert_eq!(row.errors, 0);
    assert_eq!(row.latency.count, 5);
    assert!(row.latency.min <= row.latency.p50 && row.latency.p50 <= row.latency.max);
    assert!(row.latency.p99 <= row.latency.max);
    assert!(row.latency.total >= row.latency.max);
}

#[tokio::test]
async fn every_method_records() {
    let t = unique("methods");
    seeded_table(&t, 5).await;
    let pool = builder().build().unwrap();
    let mut client = pool.get().await.unwrap();
    let select = format!("SELECT v FROM {t} WHERE id = $1");
    let one = client.query_one(&select, &[&1i32]).await.unwrap();
    assert_eq!(one.get::<_, String>(0), "v1");
    assert!(
        client
            .query_opt(&select, &[&42i32])
            .await
            .unwrap()
            .is_none()
    );
    let stmt = client.prepare_cached(&select).await.unwrap();
    client.query(&stmt, &[&2i32]).await.unwrap();
    let streamed: Vec<_> = client
        .query_raw(&stmt, [3i32])
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed.len(), 1);
    let update = format!("UPDATE {t} SET v = v || 'x' WHERE id <= $1");
    assert_eq!(client.execute(&update, &[&3i32]).await.unwrap(), 3);
    client
        .batch_execute(&format!("UPDATE {t} SET v = 'b' WHERE id = 5"))
        .await
        .unwrap();
    {
        let tx = client.transaction().await.unwrap();
        tx.execute(&format!("DELETE FROM {t} WHERE id = 5"), &[])
            .await
            .unwrap();
        let s = tx.prepare_cached(&select).await.unwrap();
        tx.query_one(&s, &[&4i32]).await.unwrap();
        tx.rollback().await.unwrap();
    }
    drop(client);

    let stats = pool.stats();
    let s = stats.statement(&select).unwrap();
    // query_one, query_opt, query, query_raw, query_one in the transaction.
    assert_eq!(s.calls, 5);
    // Rows: 1 (query_one), 0 (query_opt miss), 1, 1, 1.
    assert_eq!(s.rows, 4);
    // The literal becomes `$2`, numbered after the statement's own `$1`.
    let u = stats
        .statement(&format!("UPDATE {t} SET v = v || $2 WHERE id <= $1"))
        .unwrap();
    assert_eq!((u.calls, u.rows), (1, 3));
    let b = stats
        .statement(&format!("UPDATE {t} SET v = $1 WHERE id = $2"))
        .unwrap();
    assert_eq!(b.calls, 1);
    let d = stats
        .statement(&format!("DELETE FROM {t} WHERE id = $1"))
        .unwrap();
    assert_eq!((d.calls, d.rows), (1, 1));
    assert_eq!(stats.total_calls(), 8);
}

#[tokio::test]
async fn dropped_row_stream_is_recorded_as_cancelled_with_rows_read() {
    let t = unique("stream");
    seeded_table(&t, 20).await;
    let pool = builder().build().unwrap();
    let client = pool.get().await.unwrap();
    let sql = format!("SELECT id FROM {t} ORDER BY id");
    let mut stream = Box::pin(
        client
            .query_raw(&sql, std::iter::empty::<i32>())
            .await
            .unwrap(),
    );
    stream.try_next().await.unwrap().unwrap();
    stream.try_next().await.unwrap().unwrap();
    drop(stream);
    let stats = pool.stats();
    let row = stats.statement(&sql).unwrap();
    assert_eq!((row.calls, row.rows), (1, 2));
    // Dropped before its last row: the caller gave up on it.
    assert_eq!((row.cancelled, row.errors), (1, 0));
}

/// The stats oracle: a scripted workload with normalisable literals; for
/// each statement, our call count equals the `calls` delta in
/// pg_stat_statements.
#[tokio::test]
async fn call_counts_match_pg_stat_statements() {
    let t = unique("oracle");
    seeded_table(&t, 50).await;
    let observer = plain().await;
    let texts = [
        format!("SELECT v FROM {t} WHERE id = 1"),
        format!("UPDATE {t} SET v = 'x' WHERE id = 2"),
        format!("SELECT count(*) FROM {t} WHERE id > 10 AND v <> 'zz'"),
        format!("SELECT v, id FROM {t} WHERE id = $1"),
    ];
    let keys: Vec<String> = texts.iter().map(|s| normalize(s)).collect();
    let mut before = Vec::new();
    for k in &keys {
        before.push(server_calls(&observer, k).await);
    }

    let pool = builder().build().unwrap();
    let mut tasks = Vec::new();
    for task in 0..4i32 {
        let pool = pool.clone();
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let client = pool.get().await.unwrap();
            for i in 0..(10 + task * 3) {
                client
                    .query(&format!("SELECT v FROM {t} WHERE id = {}", i % 50 + 1), &[])
                    .await
                    .unwrap();
                if i % 3 == 0 {
                    client
                        .execute(
                            &format!("UPDATE {t} SET v = 'y{i}' WHERE id = {}", i + 2),
                            &[],
                        )
                        .await
                        .unwrap();
                }
                if i % 4 == 0 {
                    client
                        .query(
                            &format!("SELECT count(*) FROM {t} WHERE id > {i} AND v <> 'q{task}'"),
                            &[],
                        )
                        .await
                        .unwrap();
                }
                let stmt = client
                    .prepare_cached(&format!("SELECT v, id FROM {t} WHERE id = $1"))
                    .await
                    .unwrap();
                client.query_opt(&stmt, &[&(i + 1)]).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let stats = pool.stats();
    let mut checked = 0;
    for (k, b) in keys.iter().zip(before) {
        let ours = stats.statement(k).map_or(0, |s| s.calls);
        let theirs = server_calls(&observer, k).await - b;
        assert!(ours > 0, "{k} was not recorded");
        assert_eq!(ours as i64, theirs, "calls for {k}");
        checked += 1;
    }
    assert_eq!(checked, 4);
    // 10+13+16+19 iterations.
    assert_eq!(stats.statement(&keys[0]).unwrap().calls, 58);
}

#[tokio::test]
async fn built_and_nested_transactions_record() {
    use perfect21_pg_stats::tokio_postgres::IsolationLevel;
    let t = unique("txn");
    seeded_table(&t, 3).await;
    let pool = builder().build().unwrap();
    let mut client = pool.get().await.unwrap();
    let update = format!("UPDATE {t} SET v = 'n' WHERE id = $1");
    {
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::Serializable)
            .start()
            .await
            .unwrap();
        let level: String = tx
            .raw()
            .query_one("SHOW transaction_isolation", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(level, "serializable");
        tx.execute(&update, &[&1i32]).await.unwrap();
        {
            let inner = tx.transaction().await.unwrap();
            inner.execute(&update, &[&2i32]).await.unwrap();
            inner.rollback().await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    let changed: i64 = client
        .raw()
        .query_one(&format!("SELECT count(*) FROM {t} WHERE v = 'n'"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(changed, 1, "the savepoint's update was rolled back");
    let stats = pool.stats();
    let row = stats.statement(&normalize(&update)).unwrap();
    assert_eq!((row.calls, row.rows), (2, 2));
}
