//! The servers' URLs as `cargo xtask` exports them to the tests.
//!
//! A test that needs a server calls one of these. When the variable is
//! missing the call panics with a message that says how to get it — a test
//! never passes by skipping.

/// The variable that names the standalone Redis server.
pub const REDIS_URL: &str = "REDIS_URL";
/// The variable that lists the Redis Cluster's nodes, comma-separated.
pub const REDIS_CLUSTER_URLS: &str = "REDIS_CLUSTER_URLS";
/// The variable that names the Postgres database.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// `REDIS_URL`, or a panic that says to run `cargo xtask test`.
pub fn redis_url() -> String {
    required(REDIS_URL)
}

/// `REDIS_CLUSTER_URLS` split at commas, or a panic that says to run `cargo xtask test`.
pub fn redis_cluster_urls() -> Vec<String> {
    required(REDIS_CLUSTER_URLS)
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// `DATABASE_URL`, or a panic that says to run `cargo xtask test`.
pub fn database_url() -> String {
    required(DATABASE_URL)
}

/// The message for a missing variable.
pub fn missing_message(name: &str) -> String {
    format!(
        "{name} is not set: this test needs a real server. Run `cargo xtask test` \
         (it starts Redis, a Redis Cluster and Postgres and exports REDIS_URL, \
         REDIS_CLUSTER_URLS and DATABASE_URL), or start them with \
         `cargo xtask services` and export the lines it prints."
    )
}

fn required(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value,
        _ => panic!("{}", missing_message(name)),
    }
}
