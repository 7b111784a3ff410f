//! get_many_or_set: one MGET, one loader call with only the missing keys,
//! one pipelined SET, results in the caller's order, exact stats, and
//! single-flight per key shared with get_or_set.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use perfect21_redis_cache::{CacheError, CommandFamily};
use tokio::sync::{Notify, oneshot};

type Calls = Arc<Mutex<Vec<Vec<String>>>>;

/// Yields until `done()` (bounded: 10 s, so a regression fails instead of
/// hanging).
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        tokio::task::yield_now().await;
    }
}
type Answer = futures_util::future::Ready<Result<Vec<(String, usize)>, std::io::Error>>;

/// A loader that records the keys it is given and answers `len(key)` for
/// each, except keys starting with `none`, which it leaves out.
fn recording(calls: &Calls) -> impl FnOnce(Vec<String>) -> Answer + Send + 'static {
    let calls = Arc::clone(calls);
    move |keys: Vec<String>| {
        calls.lock().unwrap().push(keys.clone());
        let found = keys
            .into_iter()
            .filter(|k| !k.starts_with("none"))
            .map(|k| {
                let len = k.len();
                (k, len)
            })
            .collect();
        futures_util::future::ready(Ok(found))
    }
}

#[tokio::test]
async fn one_mget_one_loader_call_one_set_pipeline() {
    let cache = support::cache("mos").await;
    cache.set("bb", &20usize, None).await.unwrap();
    let calls: Calls = Arc::default();
    let keys = ["a", "bb", "ccc", "none1", "a"];
    let got = cache
        .get_many_or_set(&keys, None, recording(&calls))
        .await
        .unwrap();
    assert_eq!(got, vec![Some(1), Some(20), Some(3), None, Some(1)]);
    assert_eq!(
        *calls.lock().unwrap(),
        vec![vec!["a".to_owned(), "ccc".to_owned(), "none1".to_owned()]],
        "one loader call, the missing keys only, each once"
    );
    let s = cache.stats();
    assert_eq!(
        (
            s.hits,
            s.misses,
            s.loader_runs,
            s.sets,
            s.singleflight_joins
        ),
        (1, 3, 1, 1 + 2, 0),
        "each distinct key counted once; the absent key is not stored"
    );
    let read = s.latency_of(CommandFamily::Read).unwrap().count;
    let write = s.latency_of(CommandFamily::Write).unwrap().count;
    assert_eq!((read, write - 1), (1, 1), "one MGET, one SET pipeline");

    // Now stored: no loader call, all hits.
    let again = cache
        .get_many_or_set(&keys, None, |_: Vec<String>| async {
            Err::<Vec<(String, usize)>, _>(std::io::Error::other("must not run"))
        })
        .await;
    assert!(
        again.is_err(),
        "none1 is still missing: the loader runs for it"
    );
    let got = cache
        .get_many_or_set(&["a", "ccc"], None, |_: Vec<String>| async {
            Err::<Vec<(String, usize)>, _>(std::io::Error::other("must not run"))
        })
        .await
        .unwrap();
    assert_eq!(got, vec![Some(1), Some(3)]);
    assert!(
        cache
            .get_many_or_set::<usize, &str, _, _, Vec<_>, std::io::Error>(&[], None, |_| async {
                unreachable!()
            })
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_callers_load_each_key_once() {
    let cache = support::cache("mos-sf").await;
    let gate = Arc::new(Notify::new());
    let (started, first_started) = oneshot::channel::<()>();
    let first = {
        let cache = cache.clone();
        let gate = Arc::clone(&gate);
        tokio::spawn(async move {
            cache
                .get_many_or_set(
                    &["1", "2", "3"],
                    None,
                    move |keys: Vec<String>| async move {
                        let _ = started.send(());
                        gate.notified().await; // hold keys 1–3 in flight
                        Ok::<_, std::io::Error>(keys.into_iter().map(|k| (k, 100usize)))
                    },
                )
                .await
        })
    };
    first_started.await.unwrap();
    let calls: Calls = Arc::default();
    let second = {
        let cache = cache.clone();
        let loader = recording(&calls);
        tokio::spawn(async move { cache.get_many_or_set(&["2", "3", "4"], None, loader).await })
    };
    // The second caller joins 2 and 3 and loads only 4.
    until("the second loader ran", || {
        !calls.lock().unwrap().is_empty()
    })
    .await;
    // get_or_set joins the batch's flight of key 1 too.
    let joiner = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_set("1", None, || async {
                    Err::<usize, _>(std::io::Error::other("must not run: joined"))
                })
                .await
        })
    };
    until("three joins", || cache.stats().singleflight_joins >= 3).await;
    gate.notify_one();
    assert_eq!(
        first.await.unwrap().unwrap(),
        vec![Some(100), Some(100), Some(100)]
    );
    assert_eq!(
        second.await.unwrap().unwrap(),
        vec![Some(100), Some(100), Some(1)]
    );
    assert_eq!(joiner.await.unwrap().unwrap(), 100);
    assert_eq!(*calls.lock().unwrap(), vec![vec!["4".to_owned()]]);
    let s = cache.stats();
    assert_eq!((s.loader_runs, s.singleflight_joins, s.sets), (2, 3, 4));
    assert_eq!(cache.loads_in_flight(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_joins_get_or_set_and_an_absent_key_fails_a_get_or_set_joiner() {
    let cache = support::cache("mos-join").await;
    let gate = Arc::new(Notify::new());
    let (started, single_started) = oneshot::channel::<()>();
    let single = {
        let cache = cache.clone();
        let gate = Arc::clone(&gate);
        tokio::spawn(async move {
            cache
                .get_or_set("x", None, move || async move {
                    let _ = started.send(());
                    gate.notified().await;
                    Ok::<_, std::io::Error>(7usize)
                })
                .await
        })
    };
    single_started.await.unwrap();
    let calls: Calls = Arc::default();
    let batch = {
        let cache = cache.clone();
        let loader = recording(&calls);
        tokio::spawn(async move { cache.get_many_or_set(&["x", "none-y"], None, loader).await })
    };
    until("the second loader ran", || {
        !calls.lock().unwrap().is_empty()
    })
    .await;
    gate.notify_one();
    assert_eq!(single.await.unwrap().unwrap(), 7);
    assert_eq!(batch.await.unwrap().unwrap(), vec![Some(7), None]);
    assert_eq!(*calls.lock().unwrap(), vec![vec!["none-y".to_owned()]]);

    // A get_or_set that joins a batch whose loader leaves its key out gets
    // a loader error, not a value of the wrong type.
    let gate = Arc::new(Notify::new());
    let (started, batch_started) = oneshot::channel::<()>();
    let batch = {
        let cache = cache.clone();
        let gate = Arc::clone(&gate);
        tokio::spawn(async move {
            cache
                .get_many_or_set(&["none-z"], None, move |_: Vec<String>| async move {
                    let _ = started.send(());
                    gate.notified().await;
                    Ok::<_, std::io::Error>(Vec::<(String, usize)>::new())
                })
                .await
        })
    };
    batch_started.await.unwrap();
    let joins = cache.stats().singleflight_joins;
    let joiner = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_set("none-z", None, || async {
                    Err::<usize, _>(std::io::Error::other("must not run: joined"))
                })
                .await
        })
    };
    until("the get_or_set joined", || {
        cache.stats().singleflight_joins > joins
    })
    .await;
    gate.notify_one();
    assert_eq!(batch.await.unwrap().unwrap(), vec![None]);
    assert!(matches!(joiner.await.unwrap(), Err(CacheError::Loader(_))));
}

#[tokio::test]
async fn a_failing_or_panicking_loader_caches_nothing_and_frees_the_keys() {
    let cache = support::cache("mos-fail").await;
    let failed = cache
        .get_many_or_set(&["a", "b"], None, |_: Vec<String>| async {
            Err::<Vec<(String, u32)>, _>(std::io::Error::other("database down"))
        })
        .await;
    assert!(matches!(failed, Err(CacheError::Loader(_))), "{failed:?}");
    let panicked = cache
        .get_many_or_set(&["a", "b"], None, |_: Vec<String>| async {
            if true {
                panic!("loader bug");
            }
            Ok::<Vec<(String, u32)>, std::io::Error>(Vec::new())
        })
        .await;
    assert!(
        matches!(panicked, Err(CacheError::LoadAbandoned)),
        "{panicked:?}"
    );
    let s = cache.stats();
    assert_eq!((s.loader_runs, s.loader_errors, s.sets), (2, 2, 0));
    assert_eq!(cache.loads_in_flight(), 0);
    assert_eq!(
        cache.get_many::<u32, _>(&["a", "b"]).await.unwrap(),
        vec![None, None]
    );
}

#[tokio::test]
async fn a_call_dropped_mid_load_leaves_no_key_blocked() {
    let cache = support::cache("mos-drop").await;
    let gate = Arc::new(Notify::new());
    {
        let gate = Arc::clone(&gate);
        let call = cache.get_many_or_set(&["a", "b"], None, move |keys: Vec<String>| async move {
            gate.notified().await; // never released
            Ok::<_, std::io::Error>(keys.into_iter().map(|k| (k, 1u32)))
        });
        futures_util::pin_mut!(call);
        // Drive it into the loader, then drop it there.
        for _ in 0..1000 {
            if call.as_mut().now_or_never().is_some() {
                panic!("the gated loader cannot finish");
            }
            if cache.stats().loader_runs == 1 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(cache.stats().loader_runs, 1);
        assert_eq!(cache.loads_in_flight(), 2);
    }
    assert_eq!(
        cache.loads_in_flight(),
        0,
        "dropping the call frees its keys"
    );
    let got = cache
        .get_many_or_set(&["a", "b"], None, |keys: Vec<String>| async move {
            Ok::<_, std::io::Error>(
                keys.into_iter()
                    .map(|k| (k, 2u32))
                    .collect::<HashMap<_, _>>(),
            )
        })
        .await
        .unwrap();
    assert_eq!(got, vec![Some(2), Some(2)]);
}

#[tokio::test]
async fn values_that_cannot_be_stored_do_not_keep_the_others_out() {
    // Review findings: one oversize loaded value kept the whole batch out
    // of Redis (fail-open) and a key answered twice was stored twice.
    let cache = support::builder("mos-size")
        .max_value_size(256)
        .command_timeout(support::CORRECTNESS_TIMEOUT)
        .build()
        .await
        .unwrap();
    let got = cache
        .get_many_or_set(&["small", "big"], None, |keys: Vec<String>| async move {
            let mut answer: Vec<(String, String)> = keys
                .into_iter()
                .map(|k| {
                    let v = if k == "big" {
                        "x".repeat(1000)
                    } else {
                        "s".to_owned()
                    };
                    (k, v)
                })
                .collect();
            answer.push(("small".to_owned(), "s2".to_owned()));
            answer.push(("not-asked".to_owned(), "n".to_owned()));
            Ok::<_, std::io::Error>(answer)
        })
        .await
        .unwrap();
    assert_eq!(got, vec![Some("s2".to_owned()), Some("x".repeat(1000))]);
    assert_eq!(
        cache.get::<String>("small").await.unwrap().as_deref(),
        Some("s2"),
        "the value that fits is stored, once, the last answer winning"
    );
    assert_eq!(cache.stats().sets, 1);
    assert_eq!(cache.get::<String>("not-asked").await.unwrap(), None);

    let strict = support::builder("mos-size-strict")
        .max_value_size(256)
        .fail_open(false)
        .build()
        .await
        .unwrap();
    let refused = strict
        .get_many_or_set(&["small", "big"], None, |keys: Vec<String>| async move {
            Ok::<_, std::io::Error>(keys.into_iter().map(|k| {
                let v = if k == "big" {
                    "x".repeat(1000)
                } else {
                    "s".to_owned()
                };
                (k, v)
            }))
        })
        .await;
    assert!(
        matches!(refused, Err(CacheError::ValueTooLarge { .. })),
        "{refused:?}"
    );
    assert_eq!(
        strict.get::<String>("small").await.unwrap().as_deref(),
        Some("s")
    );
}
