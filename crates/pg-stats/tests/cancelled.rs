//! Nothing goes unrecorded: a statement whose future is dropped (a caller's
//! timeout, `select!`, a cancelled request) is recorded as cancelled with
//! the time until the drop, and a wait for a connection that is abandoned
//! or times out lands in the wait histogram. Time is tokio's, paused: the
//! durations are exact.

mod support;

use std::time::Duration;

use futures_util::FutureExt;
use perfect21_pg_stats::{Error, normalize};
use support::builder;
use support::lock::AdvisoryLock;

/// A builder with no pool timeouts: with the clock paused, a pending
/// timeout timer would fire as soon as the runtime waits for the server.
fn untimed() -> perfect21_pg_stats::StatsPoolBuilder {
    builder()
        .wait_timeout(None)
        .create_timeout(None)
        .recycle_timeout(None)
}

#[tokio::test(start_paused = true)]
async fn a_statement_dropped_mid_flight_is_recorded_as_cancelled() {
    let lock = AdvisoryLock::taken().await;
    let pool = untimed()
        .slow_threshold(Duration::from_secs(1))
        .build()
        .unwrap();
    let client = pool.get().await.unwrap();
    let sql = lock.waiting_sql("dropped_mid_flight");
    // The caller gives up after 5 s (the statement waits for the lock).
    let outcome = tokio::time::timeout(Duration::from_secs(5), client.query(&sql, &[])).await;
    assert!(outcome.is_err(), "the statement waited for the lock");

    let stats = pool.stats();
    let row = stats
        .statement(&normalize(&sql))
        .expect("the dropped statement is recorded");
    assert_eq!((row.calls, row.errors, row.rows), (1, 0, 0));
    assert_eq!(row.cancelled, 1);
    assert_eq!(row.latency.count, 1);
    // The time until the drop (the timer fires on the next millisecond tick).
    assert!(
        (Duration::from_secs(5)..Duration::from_millis(5001)).contains(&row.latency.max),
        "{:?}",
        row.latency
    );
    // Slow, so in the slow log too, marked as cancelled.
    let slow = pool.slow_queries();
    assert_eq!(slow.len(), 1, "{slow:?}");
    assert!(slow[0].cancelled && slow[0].sqlstate.is_none(), "{slow:?}");
    assert_eq!(slow[0].duration, row.latency.max);
    lock.release().await;
}

#[tokio::test(start_paused = true)]
async fn abandoned_and_timed_out_waits_are_in_the_wait_histogram() {
    let pool = untimed()
        .max_size(1)
        .wait_timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    let held = pool.get().await.unwrap();
    // A caller that gives up at once (its future is dropped while it waits).
    assert!(pool.get().now_or_never().is_none(), "no connection is free");
    // A caller that waits the whole wait_timeout.
    let err = pool.get().await.unwrap_err();
    assert!(matches!(err, Error::AcquireTimeout("wait")), "{err:?}");
    drop(held);

    let s = pool.pool_stats();
    assert_eq!(
        (s.acquired, s.acquire_timeouts, s.acquire_cancelled),
        (1, 1, 1)
    );
    assert_eq!(
        s.acquire_wait.count, 3,
        "served, abandoned, timed out: {s:?}"
    );
    assert!(
        (Duration::from_secs(5)..Duration::from_millis(5001)).contains(&s.acquire_wait.max),
        "{:?}",
        s.acquire_wait
    );
}
