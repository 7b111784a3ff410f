//! The servers `cargo xtask test` exports are real: Redis answers SET/GET,
//! every cluster node reports `cluster_state:ok`, Postgres answers `SELECT 1`
//! and `pg_stat_statements` is readable. Without the variables this fails
//! with a message to run `cargo xtask test` — it never skips.

use perfect21_examples::smoke::{self, Urls};
use perfect21_testkit::env;

#[tokio::test]
async fn every_service_answers() {
    let urls = Urls {
        redis: env::redis_url(),
        cluster: env::redis_cluster_urls(),
        database: env::database_url(),
    };
    assert!(!urls.cluster.is_empty(), "REDIS_CLUSTER_URLS lists no node");
    let checks = smoke::run(&urls).await;
    assert_eq!(checks.len(), 2 + urls.cluster.len() + 1);
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c.outcome.is_err())
        .map(ToString::to_string)
        .collect();
    assert!(failed.is_empty(), "failed checks:\n{}", failed.join("\n"));
}
