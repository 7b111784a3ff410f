//! Every statement's latency percentiles, the slow log, and the server's
//! own view from `pg_stat_statements`.
//!
//! Needs PostgreSQL: `DATABASE_URL=postgres://… cargo run -p perfect21-pg-stats
//! --example statement_stats` (or `cargo xtask services` for a throwaway one).
#![allow(clippy::print_stdout)]

use std::time::Duration;

use perfect21_pg_stats::{StatsPool, TopOrder};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| "set DATABASE_URL (or run `cargo xtask services`)")?;
    let pool = StatsPool::builder(&url)
        .max_size(4)
        .application_name("statement-stats-example")
        .slow_threshold(Duration::from_millis(50))
        .build()?;

    let client = pool.get().await?;
    client
        .batch_execute(
            "CREATE TEMP TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
             INSERT INTO accounts SELECT g, g * 10 FROM generate_series(1, 1000) g",
        )
        .await?;
    let by_id = client
        .prepare_cached("SELECT balance FROM accounts WHERE id = $1")
        .await?;
    for id in 1..=500i32 {
        let row = client.query_one(&by_id, &[&id]).await?;
        assert_eq!(row.get::<_, i64>(0), i64::from(id) * 10);
    }
    // Literals are normalised away: these ten calls are one statement.
    for id in 1..=10 {
        client
            .execute(
                &format!("UPDATE accounts SET balance = balance + 1 WHERE id = {id}"),
                &[],
            )
            .await?;
    }
    // One slow query for the slow log.
    client.query_one("SELECT pg_sleep(0.06)::text", &[]).await?;
    drop(client);

    let stats = pool.stats();
    for statement in &stats.statements {
        println!(
            "{:>4} calls  p50 {:>9.3?}  p99 {:>9.3?}  {}",
            statement.calls, statement.latency.p50, statement.latency.p99, statement.statement
        );
    }
    let select = stats
        .statement("SELECT balance FROM accounts WHERE id = $1")
        .ok_or("select recorded")?;
    assert_eq!((select.calls, select.rows, select.errors), (500, 500, 0));
    let update = stats
        .statement("UPDATE accounts SET balance = balance + $1 WHERE id = $2")
        .ok_or("update recorded")?;
    assert_eq!(update.calls, 10);
    println!(
        "pool: {} connections created, mean connect {:?}, mean wait {:?}",
        stats.pool.created,
        stats.pool.connect_time.mean(),
        stats.pool.acquire_wait.mean()
    );
    let slow = pool.slow_queries();
    assert_eq!(slow.len(), 1);
    println!(
        "slow log: {} took {:?}",
        slow[0].statement, slow[0].duration
    );

    // The server's side of the story (pg_stat_statements must be preloaded).
    match pool
        .server_stats()
        .top_statements(TopOrder::TotalTime, 3)
        .await
    {
        Ok(top) => {
            for s in top {
                println!(
                    "server: {:>6} calls  mean {:.3} ms  {}",
                    s.calls, s.mean_time_ms, s.query
                );
            }
        }
        Err(error) => println!("server statistics unavailable: {error}"),
    }
    Ok(())
}
