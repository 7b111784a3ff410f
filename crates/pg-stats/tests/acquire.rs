//! The wait for a connection is reported apart from connecting and from the
//! recycle check. Connecting goes through a proxy that holds it until let
//! through, the recycle check waits on an advisory lock; tokio's clock is
//! paused and moved by hand, so every figure is exact.

mod support;

use std::time::Duration;

use perfect21_pg_stats::{RecyclingMethod, StatsPool};
use support::gate::GatedProxy;
use support::lock::AdvisoryLock;

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test(start_paused = true)]
async fn the_wait_excludes_connecting_and_the_recycle_check() {
    let proxy = GatedProxy::start().await;
    let lock = AdvisoryLock::new().await;
    let pool = StatsPool::builder(&proxy.url())
        .max_size(1)
        .wait_timeout(None)
        .create_timeout(None)
        .recycle_timeout(None)
        .recycling_method(RecyclingMethod::Custom(lock.waiting_sql("recycle_check")))
        .build()
        .unwrap();

    // The first caller connects, which takes 2 s.
    let first = tokio::spawn({
        let pool = pool.clone();
        async move { pool.get().await.unwrap() }
    });
    proxy.wait_for_connection().await;
    tokio::time::advance(2 * SECOND).await;
    proxy.let_through(1);
    let first = first.await.unwrap();

    // The second waits 3 s for that connection, then its recycle check
    // waits 5 s for the lock.
    let second = tokio::spawn({
        let pool = pool.clone();
        async move { pool.get().await.map(drop) }
    });
    while pool.pool_stats().waiting == 0 {
        tokio::task::yield_now().await;
    }
    tokio::time::advance(3 * SECOND).await;
    lock.take().await;
    drop(first);
    lock.wait_for_a_waiter().await;
    tokio::time::advance(5 * SECOND).await;
    lock.release().await;
    second.await.unwrap().unwrap();

    let s = pool.pool_stats();
    assert_eq!(s.acquired, 2);
    assert_eq!((s.connect_time.count, s.connect_time.max), (1, 2 * SECOND));
    assert_eq!(s.acquire_wait.count, 2, "{s:?}");
    assert_eq!(
        s.acquire_wait.min,
        Duration::ZERO,
        "connecting is not waiting: {s:?}"
    );
    assert_eq!(
        s.acquire_wait.max,
        3 * SECOND,
        "the recycle check is not waiting: {s:?}"
    );
    assert_eq!(
        (s.recycle_check.count, s.recycle_check.max),
        (1, 5 * SECOND)
    );
    assert_eq!(s.recycled, 1);
    // What each caller paid in all: 2 s connecting; 3 s waiting + 5 s checking.
    assert_eq!(s.acquire_time.count, 2);
    assert_eq!(
        (s.acquire_time.min, s.acquire_time.max),
        (2 * SECOND, 8 * SECOND)
    );
}

/// A recycle check that does not finish within `recycle_timeout` counts as
/// a failed check, and its time is not waiting either.
#[tokio::test(start_paused = true)]
async fn a_recycle_check_that_times_out_is_counted() {
    let lock = AdvisoryLock::new().await;
    let pool = StatsPool::builder(&support::url())
        .max_size(1)
        .wait_timeout(None)
        .create_timeout(None)
        .recycle_timeout(Some(4 * SECOND))
        .recycling_method(RecyclingMethod::Custom(lock.waiting_sql("recycle_timeout")))
        .build()
        .unwrap();
    drop(pool.get().await.unwrap());
    lock.take().await;
    // The check waits for the lock until the recycle timeout (4 s of paused
    // time) discards the connection; the caller then gets a new one.
    let client = pool.get().await.unwrap();
    lock.release().await;
    drop(client);
    let s = pool.pool_stats();
    assert_eq!((s.recycled, s.closed.broken, s.created), (0, 1, 2), "{s:?}");
    assert_eq!(s.recycle_check.count, 1);
    assert!(s.recycle_check.max >= 4 * SECOND, "{s:?}");
    assert_eq!(s.acquire_wait.max, Duration::ZERO, "{s:?}");
}
