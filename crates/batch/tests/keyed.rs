//! The keyed form: each distinct key of a batch is loaded once, every
//! caller gets the value of its own key, a key the load did not return is
//! `Ok(None)`.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use perfect21_batch::{BatchError, FlushPolicy, KeyedBatcher};

type Loads = Arc<Mutex<Vec<Vec<u32>>>>;

/// Finds even keys only; records the keys of every load.
fn users(loads: &Loads) -> KeyedBatcher<u32, String, String> {
    let loads = Arc::clone(loads);
    KeyedBatcher::builder(move |ids: Vec<u32>| {
        loads.lock().unwrap().push(ids.clone());
        async move {
            if ids.contains(&666) {
                return Err("cursed id".to_string());
            }
            Ok(ids
                .into_iter()
                .filter(|id| id % 2 == 0)
                .map(|id| (id, format!("user {id}")))
                .collect::<HashMap<_, _>>())
        }
    })
    .flush_policy(FlushPolicy::Fixed)
    .max_wait(Duration::from_millis(1))
    .build()
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn identical_keys_in_a_batch_share_one_load() {
    let loads = Loads::default();
    let batcher = users(&loads);
    let keys = [4, 2, 4, 4, 7, 2, 8];
    let pending: Vec<_> = keys.iter().map(|&k| batcher.try_load(k).unwrap()).collect();
    for (key, submission) in keys.iter().zip(pending) {
        let expected = (key % 2 == 0).then(|| format!("user {key}"));
        assert_eq!(submission.await, Ok(expected), "key {key}");
    }
    assert_eq!(*loads.lock().unwrap(), [vec![4, 2, 7, 8]]);
    let stats = batcher.stats();
    assert_eq!(
        (stats.deduplicated, stats.submitted, stats.completed),
        (3, 7, 7)
    );
}

#[tokio::test(start_paused = true)]
async fn a_key_missing_from_the_result_is_none() {
    let loads = Loads::default();
    let batcher = users(&loads);
    assert_eq!(batcher.load(3).await, Ok(None));
    assert_eq!(batcher.load(10).await, Ok(Some("user 10".to_string())));
    assert_eq!(batcher.stats().failed, 0, "not found is not a failure");
}

#[tokio::test(start_paused = true)]
async fn the_same_key_in_different_batches_is_loaded_again() {
    let loads = Loads::default();
    let batcher = users(&loads);
    assert_eq!(batcher.load(2).await, Ok(Some("user 2".to_string())));
    assert_eq!(batcher.load(2).await, Ok(Some("user 2".to_string())));
    assert_eq!(*loads.lock().unwrap(), [vec![2], vec![2]]);
}

#[tokio::test(start_paused = true)]
async fn an_error_reaches_every_request_of_the_batch() {
    let loads = Loads::default();
    let batcher = users(&loads);
    let pending: Vec<_> = [2, 666, 2]
        .iter()
        .map(|&k| batcher.try_load(k).unwrap())
        .collect();
    for submission in pending {
        assert_eq!(
            submission.await,
            Err(BatchError::Failed("cursed id".to_string()))
        );
    }
}

#[tokio::test(start_paused = true)]
async fn pairs_may_come_back_as_a_vec_with_strays_ignored() {
    let batcher = KeyedBatcher::builder(|keys: Vec<&'static str>| async move {
        let mut pairs: Vec<(&'static str, usize)> = keys.iter().map(|k| (*k, k.len())).collect();
        pairs.reverse();
        pairs.push(("never asked", 0));
        Ok::<_, String>(pairs)
    })
    .build()
    .unwrap();
    let (a, b) = tokio::join!(batcher.load("ab"), batcher.load("abcd"));
    assert_eq!((a, b), (Ok(Some(2)), Ok(Some(4))));
}
