//! Against a real Redis server (`REDIS_URL`, exported by `cargo xtask
//! test`): many concurrent single-key lookups become a few `MGET`s, and
//! every caller still gets its own value — binary values, missing keys and
//! duplicate keys included.

use std::collections::HashMap;

use perfect21_batch::{Batcher, KeyedBatcher};
use redis::aio::MultiplexedConnection;

const CALLERS: usize = 300;

/// A connection, and keys `<prefix>:0` … `<prefix>:{CALLERS-1}` written
/// except every 5th, each holding bytes that spell its number (and a zero
/// byte).
async fn seeded(prefix: &str) -> MultiplexedConnection {
    let url = perfect21_testkit::env::redis_url();
    let mut connection = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut pipe = redis::pipe();
    for (i, bytes) in (0..CALLERS).filter_map(|i| Some((i, value(i)?))) {
        pipe.set(format!("{prefix}:{i}"), bytes).ignore();
    }
    pipe.query_async::<()>(&mut connection).await.unwrap();
    connection
}

/// Deletes what `seeded` wrote.
async fn clean(mut connection: MultiplexedConnection, prefix: &str) {
    let keys: Vec<String> = (0..CALLERS).map(|i| format!("{prefix}:{i}")).collect();
    redis::cmd("DEL")
        .arg(keys)
        .query_async::<()>(&mut connection)
        .await
        .unwrap();
}

/// What key `i` holds, if written.
fn value(i: usize) -> Option<Vec<u8>> {
    (!i.is_multiple_of(5)).then(|| {
        let mut bytes = i.to_string().into_bytes();
        bytes.push(0);
        bytes
    })
}

async fn mget(
    mut connection: MultiplexedConnection,
    keys: Vec<String>,
) -> redis::RedisResult<Vec<Option<Vec<u8>>>> {
    redis::cmd("MGET")
        .arg(&keys)
        .query_async(&mut connection)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_mget_answers_each_caller_with_its_own_key() {
    let prefix = format!("perfect21-batch:test:keyed:{}", std::process::id());
    let connection = seeded(&prefix).await;
    let load = connection.clone();
    let batcher = KeyedBatcher::builder(move |keys: Vec<String>| {
        let connection = load.clone();
        async move {
            let values = mget(connection, keys.clone()).await?;
            Ok::<_, redis::RedisError>(
                keys.into_iter()
                    .zip(values)
                    .filter_map(|(k, v)| v.map(|v| (k, v)))
                    .collect::<HashMap<_, _>>(),
            )
        }
    })
    .max_concurrent_batches(2)
    .build()
    .unwrap();

    // Each key is asked for twice, by different tasks.
    let tasks: Vec<_> = (0..2 * CALLERS)
        .map(|n| {
            let i = n % CALLERS;
            let load = batcher.load(format!("{prefix}:{i}"));
            tokio::spawn(async move { (i, load.await) })
        })
        .collect();
    for task in tasks {
        let (i, outcome) = task.await.unwrap();
        assert_eq!(outcome.unwrap(), value(i), "key {i}");
    }
    batcher.shutdown().await;
    let stats = batcher.stats();
    assert_eq!(stats.completed, 2 * CALLERS as u64);
    assert!(
        stats.batches < CALLERS as u64,
        "{} MGETs for {} lookups: no batching happened",
        stats.batches,
        2 * CALLERS
    );
    clean(connection, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_mget_routes_by_position() {
    let prefix = format!("perfect21-batch:test:plain:{}", std::process::id());
    let connection = seeded(&prefix).await;
    let load = connection.clone();
    let batcher = Batcher::builder(move |keys: Vec<String>| mget(load.clone(), keys))
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..CALLERS)
        .rev()
        .map(|i| {
            let get = batcher.submit(format!("{prefix}:{i}"));
            tokio::spawn(async move { (i, get.await) })
        })
        .collect();
    for task in tasks {
        let (i, outcome) = task.await.unwrap();
        assert_eq!(outcome.unwrap(), value(i), "key {i}");
    }
    clean(connection, &prefix).await;
}
