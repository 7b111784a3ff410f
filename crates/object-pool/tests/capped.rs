//! `max_total`: a hard cap on live objects; `get` refuses, `get_timeout`
//! blocks, `get_async` awaits.

use std::time::Duration;

use perfect21_object_pool::{Error, ObjectPool};

fn capped(max_total: usize) -> ObjectPool<Vec<u8>> {
    ObjectPool::builder(Vec::<u8>::new)
        .max_total(max_total)
        .build()
        .unwrap()
}

/// Waits (bounded, no sleep) until `n` gets are queued on `pool`.
fn until_waiting(pool: &ObjectPool<Vec<u8>>, n: u64) {
    for _ in 0..10_000_000 {
        if pool.stats().waiting == n {
            return;
        }
        std::thread::yield_now();
    }
    panic!("expected {n} waiting gets, stats: {:?}", pool.stats());
}

#[test]
fn get_on_an_exhausted_pool_is_an_error() {
    let pool = capped(2);
    let a = pool.get().unwrap();
    let b = pool.get_owned().unwrap();
    assert_eq!(pool.get().unwrap_err(), Error::Exhausted { max_total: 2 });
    assert!(pool.try_get().is_none());
    assert_eq!(pool.stats().exhausted, 1);
    drop(a);
    let c = pool.get().expect("a returned object is available again");
    assert_eq!(pool.stats().reused, 1);
    drop((b, c));
    assert_eq!(pool.stats().in_use, 0);
}

#[test]
fn detach_and_discard_free_a_place() {
    let pool = ObjectPool::builder(Vec::<u8>::new)
        .max_total(1)
        .validate(|buffer: &Vec<u8>| buffer.is_empty())
        .build()
        .unwrap();
    let _kept = pool.get().unwrap().detach();
    let mut dirty = pool.get().expect("detach freed the place");
    dirty.push(1);
    drop(dirty); // refused by validate: dropped, place freed
    let again = pool.get().expect("the discard freed the place");
    let stats = pool.stats();
    assert_eq!(
        (
            stats.created,
            stats.detached,
            stats.discarded_invalid,
            stats.in_use
        ),
        (3, 1, 1, 1)
    );
    drop(again);
}

#[test]
fn get_timeout_waits_for_a_return() {
    let pool = capped(1);
    let held = pool.get().unwrap();
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            pool.get_timeout(Duration::from_secs(60))
                .map(|b| b.capacity())
        });
        until_waiting(&pool, 1);
        drop(held);
        waiter.join().unwrap().expect("woken by the return");
    });
    let stats = pool.stats();
    assert_eq!(
        (stats.waits, stats.waiting, stats.reused, stats.created),
        (1, 0, 1, 1)
    );
    assert!(stats.wait_time > Duration::ZERO);
}

#[test]
fn get_timeout_waits_for_a_detach_to_free_a_place() {
    let pool = capped(1);
    let held = pool.get().unwrap();
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| pool.get_timeout(Duration::from_secs(60)).map(|_| ()));
        until_waiting(&pool, 1);
        let _gone = held.detach();
        waiter.join().unwrap().expect("woken by the detach");
    });
    assert_eq!(pool.stats().created, 2);
}

#[test]
fn get_timeout_gives_up_after_its_timeout() {
    let pool = capped(1);
    let _held = pool.get().unwrap();
    let error = pool.get_timeout(Duration::from_millis(5)).unwrap_err();
    match error {
        Error::Timeout { waited, max_total } => {
            assert_eq!(max_total, 1);
            assert!(waited >= Duration::from_millis(5));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    let stats = pool.stats();
    assert_eq!((stats.exhausted, stats.waiting), (1, 0));
}

#[test]
fn waiters_are_served_in_order_and_none_is_lost() {
    let pool = capped(1);
    let held = pool.get().unwrap();
    std::thread::scope(|scope| {
        let first = scope.spawn(|| pool.get_timeout(Duration::from_secs(60)).map(drop));
        until_waiting(&pool, 1);
        let second = scope.spawn(|| pool.get_timeout(Duration::from_secs(60)).map(drop));
        until_waiting(&pool, 2);
        drop(held);
        first.join().unwrap().unwrap();
        second.join().unwrap().unwrap();
    });
    let stats = pool.stats();
    assert_eq!(
        (stats.created, stats.reused, stats.waits, stats.in_use),
        (1, 2, 2, 0)
    );
}

#[test]
fn many_threads_never_exceed_max_total() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    const THREADS: usize = 8;
    const ROUNDS: usize = 2_000;
    let pool = capped(3);
    let holding = AtomicUsize::new(0);
    let peak = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..ROUNDS {
                    let guard = pool.get_timeout(Duration::from_secs(60)).unwrap();
                    let now = holding.fetch_add(1, SeqCst) + 1;
                    peak.fetch_max(now, SeqCst);
                    holding.fetch_sub(1, SeqCst);
                    drop(guard);
                }
            });
        }
    });
    assert!(peak.load(SeqCst) <= 3);
    let stats = pool.stats();
    assert!(stats.created <= 3);
    assert_eq!(stats.created + stats.reused, (THREADS * ROUNDS) as u64);
    assert_eq!(stats.returned, (THREADS * ROUNDS) as u64);
    assert_eq!((stats.in_use, stats.waiting), (0, 0));
    assert_eq!(stats.idle, stats.created);
}

#[cfg(feature = "async")]
mod asynchronous {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn get_async_awaits_a_return() {
        let pool = capped(1);
        let held = pool.get_owned().unwrap();
        let waiter = tokio::spawn({
            let pool = pool.clone();
            async move { pool.get_owned_async().await.map(|b| b.len()) }
        });
        tokio::task::yield_now().await;
        assert_eq!(pool.stats().waiting, 1);
        drop(held);
        waiter.await.unwrap().expect("woken by the return");
        let stats = pool.stats();
        assert_eq!((stats.waits, stats.waiting, stats.reused), (1, 0, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_runtime_timeout_bounds_the_wait() {
        let pool = capped(1);
        let _held = pool.get().unwrap();
        let outcome = tokio::time::timeout(Duration::from_secs(5), pool.get_async()).await;
        assert!(outcome.is_err(), "still exhausted after 5 s of paused time");
        assert_eq!(pool.stats().waiting, 0, "the cancelled get left the queue");
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_waiter_passes_its_wake_up_on() {
        let pool = capped(1);
        let held = pool.get_owned().unwrap();
        let mut first = Box::pin(pool.get_owned_async());
        let second = tokio::spawn({
            let pool = pool.clone();
            async move { pool.get_owned_async().await.map(drop) }
        });
        // Queue `first`, then `second`.
        assert!(futures_poll(&mut first).is_none());
        tokio::task::yield_now().await;
        assert_eq!(pool.stats().waiting, 2);
        drop(held); // notifies `first`…
        drop(first); // …which gives up without taking it
        // Paused time jumps ahead when nothing can run: without the
        // hand-over this times out instead of hanging.
        tokio::time::timeout(Duration::from_secs(60), second)
            .await
            .expect("the wake-up reached the second waiter")
            .unwrap()
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_tasks_share_a_capped_pool() {
        let pool = capped(2);
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    for _ in 0..200 {
                        let mut buffer = pool.get_owned_async().await.unwrap();
                        buffer.push(1);
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let stats = pool.stats();
        assert!(stats.created <= 2);
        assert_eq!(stats.created + stats.reused, 16 * 200);
        assert_eq!((stats.in_use, stats.waiting), (0, 0));
    }

    /// Polls `future` once with a no-op waker.
    fn futures_poll<F: std::future::Future + Unpin>(future: &mut F) -> Option<F::Output> {
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        match std::pin::Pin::new(future).poll(&mut context) {
            std::task::Poll::Ready(output) => Some(output),
            std::task::Poll::Pending => None,
        }
    }
}

#[test]
fn get_timeout_zero_on_an_exhausted_pool_counts_no_wait() {
    // Regression: the timeout path counted a `wait` (and its time) for a
    // get that gave up without ever waiting.
    let pool = capped(1);
    let held = pool.get().unwrap();
    assert!(matches!(
        pool.get_timeout(Duration::ZERO),
        Err(Error::Timeout { max_total: 1, .. })
    ));
    let stats = pool.stats();
    assert_eq!(
        (stats.waits, stats.wait_time, stats.exhausted, stats.waiting),
        (0, Duration::ZERO, 1, 0)
    );
    drop(held);
    assert!(pool.get_timeout(Duration::ZERO).is_ok());
    assert_eq!(pool.stats().waits, 0, "served without waiting");
}
