//! Many tasks over a small pool: totals are exact.

mod support;

use support::{builder, seeded_table, unique};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exact_totals_under_concurrency() {
    const TASKS: i32 = 16;
    const PER_TASK: i32 = 40;
    let t = unique("conc");
    seeded_table(&t, 100).await;
    let pool = builder().max_size(4).build().unwrap();
    let select = format!("SELECT v FROM {t} WHERE id = $1");
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let pool = pool.clone();
        let select = select.clone();
        let t = t.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..PER_TASK {
                let c = pool.get().await.unwrap();
                let stmt = c.prepare_cached(&select).await.unwrap();
                c.query_one(&stmt, &[&(i % 100 + 1)]).await.unwrap();
                if i % 5 == 0 {
                    c.query(&format!("SELECT count(*) FROM {t} WHERE id < {task}"), &[])
                        .await
                        .unwrap();
                }
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let stats = pool.stats();
    let s = stats.statement(&select).unwrap();
    assert_eq!(s.calls, (TASKS * PER_TASK) as u64);
    assert_eq!(s.rows, (TASKS * PER_TASK) as u64);
    assert_eq!(s.latency.count, s.calls);
    let count = stats
        .statement(&format!("SELECT count(*) FROM {t} WHERE id < $1"))
        .unwrap();
    assert_eq!(count.calls, (TASKS * PER_TASK / 5) as u64);
    assert_eq!(stats.pool.acquired, (TASKS * PER_TASK) as u64);
    assert_eq!(stats.pool.acquire_wait.count, stats.pool.acquired);
    assert!(stats.pool.created <= 4);
}
