//! The contenders of `benches/benches/batch.rs`: one harness that runs a
//! number of operations spread over concurrent callers, and the ways to
//! fetch a key from Redis (or do nothing) that the bench puts side by side.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use perfect21_batch::{Batcher, FlushPolicy, KeyedBatcher};
use redis::aio::MultiplexedConnection;
use tokio::sync::Barrier;

/// Keys the Redis benches read (`perfect21:bench:batch:0` …).
pub const KEYS: usize = 1024;
/// Bytes in each value.
pub const VALUE_BYTES: usize = 64;

/// The key a caller reads on its `n`-th call: callers start on different
/// keys and walk the key space, so concurrent callers ask for different
/// keys.
pub fn key(caller: usize, n: u64) -> String {
    format!(
        "perfect21:bench:batch:{}",
        (caller as u64 + n * 257) % KEYS as u64
    )
}

/// Runs `iters` calls of `op` spread over `callers` tasks running at once
/// (caller `c` makes `iters / callers` calls, the first `iters % callers`
/// one more); returns the time from the moment every task is ready until
/// the last call returns.
pub async fn spread<F, Fut>(callers: usize, iters: u64, op: F) -> Duration
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let start = Arc::new(Barrier::new(callers + 1));
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let calls =
                iters / callers as u64 + u64::from((caller as u64) < iters % callers as u64);
            let (start, op) = (Arc::clone(&start), op.clone());
            tokio::spawn(async move {
                start.wait().await;
                for n in 0..calls {
                    op(caller, n).await;
                }
            })
        })
        .collect();
    start.wait().await;
    let began = Instant::now();
    for task in tasks {
        task.await.expect("a caller task panicked");
    }
    began.elapsed()
}

/// The no-op batch function: each item is its own output.
pub async fn noop(items: Vec<u64>) -> Result<Vec<u64>, Infallible> {
    Ok(items)
}

/// Perfect21 around `noop`.
pub fn noop_batcher(
    policy: FlushPolicy,
    max_batch_size: usize,
    max_concurrent_batches: usize,
) -> Batcher<u64, u64, Infallible> {
    Batcher::builder(noop)
        .name("noop")
        .flush_policy(policy)
        .max_batch_size(max_batch_size)
        .max_concurrent_batches(max_concurrent_batches)
        // Only the tail of a run waits for it: every other batch is full.
        .max_wait(Duration::from_micros(50))
        .queue_capacity(1 << 16)
        .build()
        .expect("valid batcher")
}

/// `MGET` of `keys`, values in key order (`None` for a missing key).
pub async fn mget(
    mut connection: MultiplexedConnection,
    keys: Vec<String>,
) -> Result<Vec<Option<Vec<u8>>>, redis::RedisError> {
    redis::cmd("MGET")
        .arg(&keys)
        .query_async(&mut connection)
        .await
}

/// The batch function called directly for one key: `MGET key`.
pub async fn mget_direct(connection: MultiplexedConnection, key: String) {
    mget(connection, vec![key]).await.expect("MGET");
}

/// One `GET`.
pub async fn get(
    connection: &mut MultiplexedConnection,
    key: String,
) -> Result<Option<Vec<u8>>, redis::RedisError> {
    redis::cmd("GET").arg(key).query_async(connection).await
}

/// Perfect21 issuing one `MGET` per batch on a multiplexed connection.
pub fn mget_batcher(
    connection: MultiplexedConnection,
    max_batch_size: usize,
    max_concurrent_batches: usize,
) -> Batcher<String, Option<Vec<u8>>, redis::RedisError> {
    Batcher::builder(move |keys: Vec<String>| mget(connection.clone(), keys))
        .name("redis-mget")
        .max_batch_size(max_batch_size)
        .max_concurrent_batches(max_concurrent_batches)
        .build()
        .expect("valid batcher")
}

/// Perfect21's keyed form over the same `MGET`.
pub fn keyed_mget_batcher(
    connection: MultiplexedConnection,
    max_batch_size: usize,
    max_concurrent_batches: usize,
) -> KeyedBatcher<String, Vec<u8>, redis::RedisError> {
    KeyedBatcher::builder(move |keys: Vec<String>| {
        let connection = connection.clone();
        async move {
            let values = mget(connection, keys.clone()).await?;
            Ok::<_, redis::RedisError>(
                keys.into_iter()
                    .zip(values)
                    .filter_map(|(key, value)| value.map(|v| (key, v)))
                    .collect::<HashMap<_, _>>(),
            )
        }
    })
    .name("redis-mget-keyed")
    .max_batch_size(max_batch_size)
    .max_concurrent_batches(max_concurrent_batches)
    .build()
    .expect("valid batcher")
}

/// A `batch-aint-one` processor around a batch function (one key, no
/// resources): the same function Perfect21's rows call.
pub struct FnProcessor<I, O, F> {
    batch_fn: F,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O, F> std::fmt::Debug for FnProcessor<I, O, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnProcessor")
    }
}

impl<I, O, F: Clone> Clone for FnProcessor<I, O, F> {
    fn clone(&self) -> Self {
        Self {
            batch_fn: self.batch_fn.clone(),
            _types: PhantomData,
        }
    }
}

impl<I, O, F, Fut, E> batch_aint_one::Processor for FnProcessor<I, O, F>
where
    I: Send + 'static,
    O: Send + 'static,
    F: Fn(Vec<I>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<O>, E>> + Send,
    E: std::fmt::Display,
{
    type Key = ();
    type Input = I;
    type Output = O;
    type Error = String;
    type Resources = ();

    async fn acquire_resources(&self, _key: ()) -> Result<(), String> {
        Ok(())
    }

    async fn process(
        &self,
        _key: (),
        inputs: impl Iterator<Item = I> + Send,
        _resources: (),
    ) -> Result<Vec<O>, String> {
        (self.batch_fn)(inputs.collect())
            .await
            .map_err(|e| e.to_string())
    }
}

/// A `batch-aint-one` batcher around `batch_fn`, with the `Immediate` policy
/// (its counterpart of the eager policy) and the same limits as
/// Perfect21's.
pub fn aint_one<I, O, F>(
    batch_fn: F,
    max_batch_size: usize,
    max_concurrent_batches: usize,
) -> batch_aint_one::Batcher<FnProcessor<I, O, F>>
where
    FnProcessor<I, O, F>: batch_aint_one::Processor,
{
    batch_aint_one::Batcher::builder()
        .name("batch-aint-one")
        .processor(FnProcessor {
            batch_fn,
            _types: PhantomData,
        })
        .limits(
            batch_aint_one::Limits::builder()
                .max_batch_size(max_batch_size)
                .max_key_concurrency(max_concurrent_batches)
                // Room for every caller of the bench: nothing is rejected.
                .max_key_queued_items(1 << 16)
                .build(),
        )
        .batching_policy(batch_aint_one::BatchingPolicy::Immediate)
        .build()
}

/// Connects to `url` and writes the keys the benches read.
pub async fn redis_setup(url: &str) -> redis::RedisResult<MultiplexedConnection> {
    let mut connection = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    let mut pipe = redis::pipe();
    for i in 0..KEYS {
        pipe.set(key(i, 0), vec![b'v'; VALUE_BYTES]).ignore();
    }
    pipe.query_async::<()>(&mut connection).await?;
    Ok(connection)
}

/// `size` connections, each used by one caller at a time — what a pool of
/// plain (non-multiplexed) connections allows, and what the original guide
/// did. (redis 1.x has no plain async connection; a multiplexed connection
/// that never has more than one command outstanding behaves like one.)
pub async fn connection_pool(
    url: &str,
    size: usize,
) -> redis::RedisResult<deadpool::unmanaged::Pool<MultiplexedConnection>> {
    let pool = deadpool::unmanaged::Pool::new(size);
    let client = redis::Client::open(url)?;
    for _ in 0..size {
        let connection = client.get_multiplexed_async_connection().await?;
        pool.try_add(connection)
            .map_err(|_| redis::RedisError::from(std::io::Error::other("pool full")))?;
    }
    Ok(pool)
}
