//! Against a real Redis server (`REDIS_URL`, exported by `cargo xtask
//! test`): many concurrent single-key lookups become a few `MGET`s, and
//! every caller still gets its own value — binary values, missing keys and
//! duplicate keys included.

use std::collections::HashMap;

use perfect21_batch::{Batcher, KeyedBatcher};
use redis::aio::MultiplexedConnection;

const CALLERS: usize = 300;

async fn connect() -> MultiplexedConnection {
    let url = perfect21_testkit::env::redis_url();
    redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Writes keys `<prefix>:0` … `<prefix>:{n-1}` except every 5th, each
/// holding bytes that spell its number (and a zero byte).
async fn seed(connection: &mut MultiplexedConnection, prefix: &str, n: usize) {
    let mut pipe = redis::pipe();
    for i in (0..n).filter(|i| i % 5 != 0) {
        pipe.set(format!("{prefix}:{i}"), value(i)).ignore();
    }
    pipe.query_async::<()>(connection).await.unwrap();
}

fn value(i: usize) -> Vec<u8> {
    let mut bytes = i.to_string().into_bytes();
    bytes.push(0);
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_mget_answers_each_caller_with_its_own_key() {
    let mut connection = connect().await;
    let prefix = format!("perfect21-batch:test:keyed:{}", std::process::id());
    seed(&mut connection, &prefix, CALLERS).await;

    let mget = connection.clone();
    let batcher = KeyedBatcher::builder(move |keys: Vec<String>| {
        let mut connection = mget.clone();
        async move {
            let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                .arg(&keys)
                .query_async(&mut connection)
                .await?;
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
        let expected = (i % 5 != 0).then(|| value(i));
        assert_eq!(outcome.unwrap(), expected, "key {i}");
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
    let _: () = redis::cmd("DEL")
        .arg(
            (0..CALLERS)
                .map(|i| format!("{prefix}:{i}"))
                .collect::<Vec<_>>(),
        )
        .query_async(&mut connection)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_mget_routes_by_position() {
    let mut connection = connect().await;
    let prefix = format!("perfect21-batch:test:plain:{}", std::process::id());
    seed(&mut connection, &prefix, CALLERS).await;

    let mget = connection.clone();
    let batcher = Batcher::builder(move |keys: Vec<String>| {
        let mut connection = mget.clone();
        async move {
            redis::cmd("MGET")
                .arg(&keys)
                .query_async::<Vec<Option<Vec<u8>>>>(&mut connection)
                .await
        }
    })
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
        assert_eq!(outcome.unwrap(), (i % 5 != 0).then(|| value(i)), "key {i}");
    }
    let _: () = redis::cmd("DEL")
        .arg(
            (0..CALLERS)
                .map(|i| format!("{prefix}:{i}"))
                .collect::<Vec<_>>(),
        )
        .query_async(&mut connection)
        .await
        .unwrap();
}
