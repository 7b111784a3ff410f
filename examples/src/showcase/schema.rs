//! The schema, with the original guide's index ideas done right, and the seed.
//!
//! * `users`: primary key on `id`; a *partial* unique index on `email` for
//!   active users only (the rows the login path looks up).
//! * `tasks`: a *composite* index `(user_id, created_at DESC)` for "a user's
//!   latest tasks", and a *partial* index `(user_id, due_at) WHERE status =
//!   'open'` — the open-tasks query reads only the rows it returns.
//! * `request_log`: partitioned by month; `request_log_maintain(keep)`
//!   creates this month's and next month's partitions and drops the ones
//!   older than `keep` months. The maintenance task calls it.
//!
//! Everything lives in schema `showcase` (the pools set `search_path`), so
//! the tables never meet those of the crates' tests on a shared server.

use anyhow::{Context, Result};
use perfect21_pg_stats::StatsPool;

const DDL: &str = r#"
CREATE SCHEMA IF NOT EXISTS showcase;
CREATE TABLE IF NOT EXISTS users (
    id          bigint PRIMARY KEY,
    name        text        NOT NULL,
    email       text        NOT NULL,
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS users_active_email ON users (email) WHERE active;

CREATE TABLE IF NOT EXISTS tasks (
    id          bigserial   PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id),
    title       text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('open', 'done')),
    priority    smallint    NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    due_at      timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_user_created ON tasks (user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS tasks_user_open_due ON tasks (user_id, due_at) WHERE status = 'open';

CREATE TABLE IF NOT EXISTS request_log (
    at          timestamptz NOT NULL,
    route       text        NOT NULL,
    requests    bigint      NOT NULL,
    p99_us      bigint      NOT NULL
) PARTITION BY RANGE (at);

CREATE OR REPLACE FUNCTION request_log_maintain(keep_months int) RETURNS int
LANGUAGE plpgsql AS $fn$
DECLARE
    month   date := date_trunc('month', now())::date;
    start   date;
    dropped int  := 0;
    part    record;
BEGIN
    FOR i IN 0..1 LOOP
        start := (month + make_interval(months => i))::date;
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF request_log FOR VALUES FROM (%L) TO (%L)',
            'request_log_' || to_char(start, 'YYYY_MM'), start,
            (start + interval '1 month')::date);
    END LOOP;
    FOR part IN
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = 'request_log'
          AND c.relname < 'request_log_' || to_char(month - make_interval(months => keep_months), 'YYYY_MM')
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END
$fn$;
"#;

/// Creates the schema (idempotent) and seeds `users` users with three tasks
/// each, unless exactly that many are already there. Returns whether it seeded.
pub async fn prepare(pool: &StatsPool, users: u64) -> Result<bool> {
    let mut client = pool.get().await.context("connecting to Postgres")?;
    // One session at a time may create the schema (tests run in parallel).
    let tx = client.transaction().await?;
    // Setting up is not serving: the pool's 5 s statement timeout would
    // cancel the wait for another session's seed, or the seed itself on a
    // slow disk or a busy machine (seen: 300 000 tasks took 5 s).
    tx.batch_execute("SET LOCAL statement_timeout = '10min'")
        .await?;
    tx.execute("SELECT pg_advisory_xact_lock(2121)", &[])
        .await?;
    tx.batch_execute(DDL).await.context("creating the schema")?;
    tx.query_one("SELECT request_log_maintain(3)", &[]).await?;
    let have: i64 = tx
        .query_one("SELECT count(*) FROM users", &[])
        .await?
        .get(0);
    let users = i64::try_from(users).context("--users")?;
    let seeded = have != users;
    if seeded {
        tx.batch_execute("TRUNCATE tasks, users").await?;
        tx.execute(
            "INSERT INTO users (id, name, email, active)
             SELECT g, 'user ' || g, 'user' || g || '@example.com', g % 10 <> 0
             FROM generate_series(1, $1::bigint) g",
            &[&users],
        )
        .await
        .context("seeding users")?;
        tx.execute(
            "INSERT INTO tasks (user_id, title, status, priority, created_at, due_at)
             SELECT u, 'task ' || t || ' of user ' || u,
                    CASE WHEN (u + t) % 3 = 0 THEN 'done' ELSE 'open' END,
                    ((u * 7 + t) % 5)::smallint,
                    now() - make_interval(days => ((u + t) % 30)::int),
                    now() + make_interval(days => ((u * 3 + t) % 20)::int)
             FROM generate_series(1, $1::bigint) u, generate_series(1, 3) t",
            &[&users],
        )
        .await
        .context("seeding tasks")?;
    }
    tx.commit().await?;
    if seeded {
        client.batch_execute("ANALYZE users; ANALYZE tasks").await?;
    }
    Ok(seeded)
}
