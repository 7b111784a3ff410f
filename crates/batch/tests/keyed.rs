//! The keyed form: each distinct key of a batch is loaded once, every
//! caller gets the value of its own key, a key the load did not return is
//! `Ok(None)`.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use perfect21_batch::{BatchError, FlushPolicy, KeyedBatcher};
use support::{Gate, settle, within_a_day};

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

/// Like `users`, but a batch goes out when two requests are queued (or at
/// shutdown), several batches may run at once, and each load waits at
/// `gate` before answering: a key stays in flight until the test lets its
/// load finish. Key 666 fails the load; key 13 panics it.
fn gated_users(loads: &Loads, gate: &Gate) -> KeyedBatcher<u32, String, String> {
    let loads = Arc::clone(loads);
    let gate = gate.clone();
    KeyedBatcher::builder(move |ids: Vec<u32>| {
        loads.lock().unwrap().push(ids.clone());
        let gate = gate.clone();
        async move {
            gate.pass().await;
            if ids.contains(&666) {
                return Err("cursed id".to_string());
            }
            assert!(!ids.contains(&13), "unlucky load {ids:?}");
            Ok(ids
                .into_iter()
                .filter(|id| id % 2 == 0)
                .map(|id| (id, format!("user {id}"))))
        }
    })
    .flush_policy(FlushPolicy::Fixed)
    .max_batch_size(2)
    .max_wait(Duration::from_secs(3600))
    .max_concurrent_batches(4)
    .batch_timeout(Duration::from_secs(60))
    .build()
    .unwrap()
}

fn user(id: u32) -> Result<Option<String>, BatchError<String>> {
    Ok(id.is_multiple_of(2).then(|| format!("user {id}")))
}

#[tokio::test(start_paused = true)]
async fn a_key_in_flight_in_another_batch_is_joined_not_loaded_again() {
    let (loads, gate) = (Loads::default(), Gate::closed());
    let batcher = gated_users(&loads, &gate);
    let first: Vec<_> = [2, 6].map(|k| batcher.try_load(k).unwrap()).into();
    settle().await;
    // Two more batches while the first is in flight: each joins 2 instead
    // of loading it; 4 is loaded.
    let second: Vec<_> = [2, 2].map(|k| batcher.try_load(k).unwrap()).into();
    let third: Vec<_> = [4, 2].map(|k| batcher.try_load(k).unwrap()).into();
    settle().await;
    assert_eq!(
        *loads.lock().unwrap(),
        [vec![2, 6], vec![4]],
        "2 loaded once"
    );
    gate.open_all();
    assert_eq!(all(first).await, [user(2), user(6)]);
    assert_eq!(all(second).await, [user(2), user(2)]);
    assert_eq!(all(third).await, [user(4), user(2)]);
    let stats = batcher.stats();
    assert_eq!((stats.submitted, stats.completed, stats.batches), (6, 6, 3));
    // Three requests were answered by the first batch's load of 2.
    assert_eq!((stats.deduplicated, stats.joined), (3, 3), "{stats:?}");
    // Once landed, the key is no longer in flight: a new request loads it.
    let (a, b) = tokio::join!(batcher.load(2), batcher.load(10));
    assert_eq!((a, b), (user(2), user(10)));
    assert_eq!(loads.lock().unwrap().last().unwrap(), &vec![2, 10]);
}

/// Batch 1 loads `[2, bad]` and is held; batch 2 asks for `[2, 4]` and
/// joins 2. When batch 1 fails, batch 2 loads 2 itself: its callers get
/// the value, never batch 1's failure, and never hang.
async fn joiners_survive_a_failing_leader(bad: u32) {
    let (loads, gate) = (Loads::default(), Gate::closed());
    let batcher = gated_users(&loads, &gate);
    let leader: Vec<_> = [2, bad].map(|k| batcher.try_load(k).unwrap()).into();
    settle().await;
    let joiner: Vec<_> = [2, 4].map(|k| batcher.try_load(k).unwrap()).into();
    settle().await;
    assert_eq!(*loads.lock().unwrap(), [vec![2, bad], vec![4]], "2 joined");
    gate.open_all();
    for submission in leader {
        assert!(
            within_a_day(submission).await.is_err(),
            "the leader's batch failed"
        );
    }
    let answers: Vec<_> = all(joiner).await;
    assert_eq!(answers, [user(2), user(4)]);
    assert_eq!(*loads.lock().unwrap(), [vec![2, bad], vec![4], vec![2]]);
    let stats = batcher.stats();
    assert_eq!((stats.submitted, stats.completed, stats.failed), (4, 2, 2));
    assert_eq!((stats.deduplicated, stats.joined), (0, 0), "{stats:?}");
    assert_eq!(stats.outstanding(), 0);
}

async fn all<T>(
    submissions: Vec<perfect21_batch::Submission<T, String>>,
) -> Vec<Result<T, BatchError<String>>> {
    let mut out = Vec::new();
    for submission in submissions {
        out.push(within_a_day(submission).await);
    }
    out
}

#[tokio::test(start_paused = true)]
async fn joiners_load_the_key_themselves_when_the_leader_fails() {
    joiners_survive_a_failing_leader(666).await;
}

#[tokio::test(start_paused = true)]
async fn joiners_load_the_key_themselves_when_the_leader_panics() {
    joiners_survive_a_failing_leader(13).await;
}

#[tokio::test(start_paused = true)]
async fn joiners_get_the_value_when_the_leaders_callers_stop_waiting() {
    let (loads, gate) = (Loads::default(), Gate::closed());
    let batcher = gated_users(&loads, &gate);
    // The spawned load fills the batch, so its task runs it; then every
    // caller of that batch goes away.
    let queued = batcher.try_load(6).unwrap();
    let leader = tokio::spawn(batcher.load(2));
    settle().await;
    let joiner: Vec<_> = [2, 4].map(|k| batcher.try_load(k).unwrap()).into();
    settle().await;
    drop(queued);
    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    gate.open_all();
    assert_eq!(all(joiner).await, [user(2), user(4)]);
    assert_eq!(*loads.lock().unwrap(), [vec![6, 2], vec![4]]);
    settle().await;
    let stats = batcher.stats();
    assert_eq!(
        (stats.joined, stats.completed, stats.outstanding()),
        (1, 4, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn joiners_load_the_key_themselves_when_the_leader_times_out() {
    let loads = Loads::default();
    let gate = Gate::closed();
    let recorder = Arc::clone(&loads);
    let held = gate.clone();
    let batcher = KeyedBatcher::builder(move |ids: Vec<u32>| {
        recorder.lock().unwrap().push(ids.clone());
        let held = held.clone();
        async move {
            if ids.contains(&1) {
                held.pass().await; // never opened: times out
            }
            Ok::<_, String>(ids.into_iter().map(|id| (id, id * 10)))
        }
    })
    .max_concurrent_batches(4)
    .batch_timeout(Duration::from_secs(1))
    .build()
    .unwrap();
    let leader = batcher.try_load(1).unwrap();
    settle().await;
    let joiner = batcher.try_load(1).unwrap();
    settle().await;
    // The joiner's own load of 1 is held too (its batch has 1): it times
    // out as well, with a clear error rather than a hang.
    assert!(matches!(
        within_a_day(leader).await,
        Err(BatchError::Timeout { .. })
    ));
    assert!(matches!(
        within_a_day(joiner).await,
        Err(BatchError::Timeout { .. })
    ));
    let stats = batcher.stats();
    assert_eq!((stats.failed, stats.joined, stats.outstanding()), (2, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_joiners_and_answers_them() {
    let (loads, gate) = (Loads::default(), Gate::closed());
    let batcher = gated_users(&loads, &gate);
    let leader: Vec<_> = [8, 6].map(|k| batcher.try_load(k).unwrap()).into();
    settle().await;
    // Queued alone; shutdown sends it out, and it joins the load of 8.
    let joiner = batcher.try_load(8).unwrap();
    let shutdown = tokio::spawn({
        let batcher = batcher.clone();
        async move { batcher.shutdown().await }
    });
    settle().await;
    assert!(!shutdown.is_finished());
    gate.open_all();
    within_a_day(shutdown).await.unwrap();
    assert_eq!(all(leader).await, [user(8), user(6)]);
    assert_eq!(joiner.await, user(8));
    assert_eq!(*loads.lock().unwrap(), [vec![8, 6]]);
    assert_eq!(batcher.stats().joined, 1);
}
