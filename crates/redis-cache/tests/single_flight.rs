//! get_or_set: one loader run per key for concurrent callers, shared errors.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use perfect21_redis_cache::CacheError;
use tokio::sync::Notify;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_callers_one_loader_run() {
    let cache = support::cache("sf").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let cache = cache.clone();
        let runs = runs.clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_set("hot", None, move || async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    gate.notified().await; // hold the load open until everyone has joined
                    Ok::<_, std::io::Error>(vec![1u32, 2, 3])
                })
                .await
        }));
    }
    // Wait until the 99 others have joined the one load, then release it.
    while cache.stats().singleflight_joins < 99 {
        tokio::task::yield_now().await;
    }
    gate.notify_one();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), vec![1, 2, 3]);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let s = cache.stats();
    assert_eq!(
        (
            s.loader_runs,
            s.singleflight_joins,
            s.sets,
            s.misses,
            s.hits
        ),
        (1, 99, 1, 1, 0)
    );
    assert_eq!(cache.loads_in_flight(), 0);
    // Now cached: a later call is a hit and runs nothing.
    let v: Vec<u32> = cache
        .get_or_set("hot", None, || async {
            Err::<Vec<u32>, _>(std::io::Error::other("must not run"))
        })
        .await
        .unwrap();
    assert_eq!(v, vec![1, 2, 3]);
    assert_eq!(cache.stats().hits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_loader_reaches_every_waiter_and_caches_nothing() {
    let cache = support::cache("sf-fail").await;
    let gate = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let cache = cache.clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_set("k", None, move || async move {
                    gate.notified().await;
                    Err::<u32, _>(std::io::Error::other("database down"))
                })
                .await
        }));
    }
    while cache.stats().singleflight_joins < 19 {
        tokio::task::yield_now().await;
    }
    gate.notify_one();
    for task in tasks {
        match task.await.unwrap() {
            Err(CacheError::Loader(e)) => assert_eq!(e.to_string(), "database down"),
            other => panic!("expected the loader's error, got {other:?}"),
        }
    }
    let s = cache.stats();
    assert_eq!((s.loader_runs, s.loader_errors, s.sets), (1, 1, 0));
    assert!(!cache.exists("k").await.unwrap());
    // The next call loads again.
    let v = cache
        .get_or_set("k", None, || async { Ok::<_, std::io::Error>(7u32) })
        .await
        .unwrap();
    assert_eq!(v, 7);
}

#[tokio::test]
async fn a_panicking_loader_is_an_error_not_a_poisoned_key() {
    let cache = support::cache("sf-panic").await;
    let r = cache
        .get_or_set("k", None, || async {
            if true {
                panic!("loader bug");
            }
            Ok::<u32, std::io::Error>(1)
        })
        .await;
    assert!(matches!(r, Err(CacheError::LoadAbandoned)), "{r:?}");
    assert_eq!(cache.loads_in_flight(), 0);
    let v = cache
        .get_or_set("k", None, || async { Ok::<_, std::io::Error>(2u32) })
        .await
        .unwrap();
    assert_eq!(v, 2);
    assert_eq!(cache.stats().loader_errors, 1);
}

#[tokio::test]
async fn a_cancelled_load_frees_the_key() {
    let cache = support::cache("sf-cancel").await;
    let started = Arc::new(Notify::new());
    let load = {
        let cache = cache.clone();
        let started = started.clone();
        tokio::spawn(async move {
            cache
                .get_or_set("k", None, move || async move {
                    started.notify_one();
                    std::future::pending::<Result<u32, std::io::Error>>().await
                })
                .await
        })
    };
    started.notified().await;
    assert_eq!(cache.loads_in_flight(), 1);
    load.abort();
    assert!(load.await.unwrap_err().is_cancelled());
    assert_eq!(cache.loads_in_flight(), 0);
    let v = cache
        .get_or_set("k", Some(Duration::from_secs(60)), || async {
            Ok::<_, std::io::Error>(5u32)
        })
        .await
        .unwrap();
    assert_eq!(v, 5);
    assert_eq!(cache.get::<u32>("k").await.unwrap(), Some(5));
}

#[tokio::test]
async fn memoize_caches_by_arguments() {
    let cache = support::cache("memo").await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let square = cache.memoize("square", None, move |(x, label): (u64, String)| {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(format!("{label}={}", x * x))
        }
    });
    assert_eq!(square.call((3, "a".to_string())).await.unwrap(), "a=9");
    assert_eq!(square.call((3, "a".to_string())).await.unwrap(), "a=9");
    assert_eq!(square.call((4, "a".to_string())).await.unwrap(), "a=16");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let key = square.key_for(&(3u64, "a")).unwrap();
    assert!(
        key.starts_with("fn:square:") && key.len() == "fn:square:".len() + 32,
        "{key}"
    );
    assert!(cache.exists(&key).await.unwrap());
}
