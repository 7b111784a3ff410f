//! The showcase against the real servers `cargo xtask test` exports: every
//! endpoint answers what the database holds, a second profile read is an L1
//! hit, `/metrics` carries every crate's section, maintenance does its
//! chores, and `--no-cache` really bypasses every cache. A small seed
//! (`users: 500`) keeps it fast.

use std::sync::Arc;
use std::time::Duration;

use perfect21_examples::showcase::{self, Config, Running, maintenance};
use perfect21_testkit::env;
use serde_json::Value;

const USERS: u64 = 500;

fn config(cache: bool, upstream: String) -> Config {
    Config {
        port: 0,
        database_url: env::database_url(),
        replica_url: env::database_url(),
        redis_url: env::redis_url(),
        upstreams: vec![upstream],
        users: USERS,
        warm: 0,
        cache,
        l1_bytes: 1 << 20,
        redis_ttl: Duration::from_secs(60),
        l1_ttl: Duration::from_secs(60),
        db_pool: 4,
        slow_request: Duration::from_secs(1),
        maintenance_every: Duration::from_secs(3600),
    }
}

/// A one-route upstream replica on a free port.
async fn upstream() -> String {
    use axum::extract::Path;
    let app = axum::Router::new().route(
        "/item/{id}",
        axum::routing::get(|Path(id): Path<u64>| async move {
            axum::Json(serde_json::json!({"upstream": "t", "id": id}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    fn new(running: &Running) -> Self {
        Self {
            base: format!("http://{}", running.addr),
            http: reqwest::Client::new(),
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
    }

    async fn json_owned(&self, path: String) -> Value {
        self.json(&path).await
    }

    async fn stats(&self) -> Value {
        self.json("/stats").await
    }
}

async fn db() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&env::database_url(), tokio_postgres::NoTls)
        .await
        .expect("connecting to DATABASE_URL");
    tokio::spawn(connection);
    client
}

fn n(value: &Value, pointer: &str) -> u64 {
    value
        .pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no number at {pointer} in {value}"))
}

async fn open_tasks(db: &tokio_postgres::Client, user: i64) -> Vec<(i64, String)> {
    db.query(
        "SELECT id, title FROM showcase.tasks WHERE user_id = $1 AND status = 'open' ORDER BY due_at LIMIT 20",
        &[&user],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// Concurrent L1 misses coalesce: 40 callers that all miss at once (one
/// task polls them together on a one-thread runtime) make at most 5 `MGET`
/// batches, not 40: the batcher starts up to 4 batches
/// (`max_concurrent_batches`) as items arrive, and everything that arrives
/// while they are busy goes into the next one. The database batches follow
/// the `MGET` batches' loaders as they finish, so their number varies (6–7
/// seen); at most 10 still means ≥ 4 callers per batch.
#[tokio::test]
async fn concurrent_misses_coalesce_into_few_batches() {
    let running = showcase::start(config(true, upstream().await))
        .await
        .expect("showcase starts");
    let profiles = &running.app.profiles;
    let redis = profiles.redis.as_ref().expect("caching is on");
    let ids: Vec<i64> = (200..240).collect();
    // Only these keys (the other test of this binary clears the whole
    // namespace and counts its own misses; these ids are not among them).
    let keys: Vec<String> = ids.iter().map(|id| showcase::profiles::key(*id)).collect();
    redis.delete_many(&keys).await.expect("UNLINK");
    let batches = |name: &str| {
        let stats = running.app.stats();
        n(&stats, &format!("/batch/{name}/batches"))
    };
    let (mget_before, db_before) = (batches("redis_mget"), batches("users_by_id"));
    let answers = futures_util::future::join_all(ids.iter().map(|id| profiles.get(*id))).await;
    for (id, answer) in ids.iter().zip(answers) {
        let body = answer.expect("loaded").expect("the user exists");
        let user: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(user["id"], *id);
    }
    let (mget, db) = (
        batches("redis_mget") - mget_before,
        batches("users_by_id") - db_before,
    );
    assert!(
        (1..=5).contains(&mget),
        "40 concurrent misses made {mget} MGET batches"
    );
    assert!(
        (1..=10).contains(&db),
        "40 concurrent Redis misses made {db} database batches"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_every_endpoint_from_the_database_through_the_caches() {
    let running = showcase::start(config(true, upstream().await))
        .await
        .expect("showcase starts");
    let client = Client::new(&running);
    let db = db().await;
    // Start from an empty Redis tier (an earlier run may have filled it).
    let redis = running.app.profiles.redis.as_ref().expect("caching is on");
    redis.clear_namespace().await.expect("SCAN + UNLINK");

    let health = client.get("/health").await;
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-process-time"));
    assert_eq!(health.text().await.unwrap(), "ok");

    // A profile: what the database holds; the second read is an L1 hit.
    let row = db
        .query_one(
            "SELECT name, email, active FROM showcase.users WHERE id = 7",
            &[],
        )
        .await
        .unwrap();
    let before = client.stats().await;
    let user = client.json("/api/users/7").await;
    assert_eq!(user["id"], 7);
    assert_eq!(user["name"], row.get::<_, String>(0));
    assert_eq!(user["email"], row.get::<_, String>(1));
    assert_eq!(user["active"], row.get::<_, bool>(2));
    let first = client.stats().await;
    assert_eq!(
        n(&first, "/lru/l1/misses") - n(&before, "/lru/l1/misses"),
        1
    );
    // One L1 miss: one MGET lookup, a Redis miss, one database load.
    let delta = |after: &Value, path: &str| n(after, path) - n(&before, path);
    assert_eq!(delta(&first, "/batch/redis_mget/submitted"), 1);
    assert_eq!(delta(&first, "/batch/users_by_id/submitted"), 1);
    assert_eq!(delta(&first, "/redis_cache/loader_runs"), 1);
    assert_eq!(delta(&first, "/redis_cache/hits"), 0);
    assert_eq!(client.json("/api/users/7").await, user);
    let second = client.stats().await;
    assert_eq!(n(&second, "/lru/l1/hits") - n(&first, "/lru/l1/hits"), 1);
    assert_eq!(
        n(&second, "/redis_cache/loader_runs"),
        n(&first, "/redis_cache/loader_runs")
    );
    // Gone from L1 (another instance, or L1's TTL): the MGET finds it in
    // Redis and the database is not asked.
    running.app.profiles.l1.as_ref().unwrap().remove(&7);
    assert_eq!(client.json("/api/users/7").await, user);
    let third = client.stats().await;
    let step = |path: &str| n(&third, path) - n(&second, path);
    assert_eq!(step("/batch/redis_mget/submitted"), 1);
    assert_eq!(step("/redis_cache/hits"), 1);
    assert_eq!(step("/batch/users_by_id/submitted"), 0);
    assert_eq!(client.get("/api/users/999999").await.status(), 404);

    // Concurrent misses of distinct users: each answered with its own row.
    let ids: Vec<i64> = (100..140).collect();
    let answers = futures_util::future::join_all(
        ids.iter()
            .map(|id| client.json_owned(format!("/api/users/{id}"))),
    )
    .await;
    for (id, answer) in ids.iter().zip(&answers) {
        assert_eq!(answer["id"], *id);
        assert_eq!(answer["name"], format!("user {id}"));
    }
    let after = client.stats().await;
    for batcher in ["/batch/redis_mget", "/batch/users_by_id"] {
        let count = |field: &str| n(&after, &format!("{batcher}/{field}"));
        assert_eq!(count("completed"), count("submitted"), "{batcher}");
    }

    // Tasks: the open ones, soonest due first; the second read comes from the response cache.
    let tasks = client.get("/api/users/9/tasks").await;
    assert_eq!(tasks.headers()["x-cache"], "miss");
    let listed: Vec<(i64, String)> =
        serde_json::from_slice::<Vec<Value>>(&tasks.bytes().await.unwrap())
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["id"].as_i64().unwrap(),
                    t["title"].as_str().unwrap().to_string(),
                )
            })
            .collect();
    assert_eq!(listed, open_tasks(&db, 9).await);
    assert!(!listed.is_empty());
    assert_eq!(
        client.get("/api/users/9/tasks").await.headers()["x-cache"],
        "hit"
    );

    // The report: rendered on the thread pool, with an upstream's answer.
    let report = client.json("/api/report?seed=5").await;
    assert_eq!(report["report"]["input_bytes"], 65_536);
    assert!(report["report"]["compressed_bytes"].as_u64().unwrap() < 65_536);
    assert_eq!(
        report["upstream"],
        serde_json::json!({"upstream": "t", "id": 5})
    );
    assert_eq!(
        client.json("/api/upstream/3").await,
        serde_json::json!({"upstream": "t", "id": 3})
    );
    // The pool counts a task once its result is handed over, so the count
    // may trail the answer for a moment (its stats docs: exact once
    // quiescent): wait for it, bounded, and never see more than one.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let stats = loop {
        let stats = client.stats().await;
        let completed = n(&stats, "/thread_pool/completed");
        assert!(completed <= 1, "one report rendered, {completed} counted");
        if completed == 1 {
            break stats;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the rendered report was never counted"
        );
        tokio::task::yield_now().await;
    };
    assert_eq!(n(&stats, "/balancer/upstream/successes"), 2);

    // /metrics: every crate's section and the monitor's request histogram.
    let metrics = client.get("/metrics").await.text().await.unwrap();
    for section in [
        "lru",
        "redis_cache",
        "batch",
        "pg_stats",
        "balancer",
        "thread_pool",
        "object_pool",
        "monitor",
    ] {
        let heading = format!("# perfect21_{section}");
        assert!(
            metrics.lines().any(|l| l == heading),
            "no {section} section in /metrics"
        );
    }
    assert!(metrics.contains("perfect21_lru_l1_hits "), "{metrics}");
    assert!(metrics.contains("request_latency_seconds"), "{metrics}");

    // Maintenance: the report's temporary key goes (SCAN), partitions exist for this month and the next.
    let round = maintenance::round(&running.app)
        .await
        .expect("maintenance round");
    assert!(round.temporary_keys >= 1, "{round:?}");
    let partitions: i64 = db
        .query_one(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent \
             JOIN pg_namespace s ON s.oid = p.relnamespace WHERE p.relname = 'request_log' AND s.nspname = 'showcase'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(partitions >= 2, "{partitions} request_log partitions");
    let app = Arc::clone(&running.app);
    running.stop().await;
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cache_mode_bypasses_every_cache() {
    let running = showcase::start(config(false, upstream().await))
        .await
        .expect("showcase starts");
    let client = Client::new(&running);
    for _ in 0..2 {
        assert_eq!(client.json("/api/users/11").await["name"], "user 11");
        let tasks = client.get("/api/users/11/tasks").await;
        assert!(!tasks.headers().contains_key("x-cache"));
    }
    let stats = client.stats().await;
    for off in [
        "/lru/l1",
        "/lru/query_cache",
        "/lru/response_cache",
        "/redis_cache",
        "/batch",
    ] {
        assert!(
            stats.pointer(off).is_some_and(Value::is_null),
            "{off} is on: {stats}"
        );
    }
    // Every read went to Postgres: two single-row lookups, two task queries.
    let calls = |needle: &str| -> u64 {
        ["primary", "replica"]
            .iter()
            .flat_map(|pool| {
                stats["pg_stats"][pool]["statements"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter(|s| s["statement"].as_str().is_some_and(|t| t.contains(needle)))
            .map(|s| s["calls"].as_u64().unwrap_or(0))
            .sum()
    };
    assert_eq!(calls("FROM users WHERE id = $1"), 2);
    assert_eq!(calls("FROM tasks WHERE user_id"), 2);
    let metrics = client.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("# perfect21_redis_cache\n# (off: --no-cache)"),
        "{metrics}"
    );
    running.stop().await;
}
