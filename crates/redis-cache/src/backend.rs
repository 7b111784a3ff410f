//! The connection under the cache: one multiplexed, auto-reconnecting
//! `ConnectionManager` (the default, measured fastest), a Redis Cluster
//! connection (feature `cluster`), or a deadpool-redis / bb8-redis pool
//! (features `deadpool`, `bb8`).

use redis::aio::ConnectionManager;
use redis::{Cmd, FromRedisValue, Pipeline, RedisResult, ToRedisArgs};

/// Where the commands go.
#[derive(Clone)]
pub(crate) enum Backend {
    /// One multiplexed, auto-reconnecting connection: replies are matched
    /// to requests, so a cancelled call's reply is discarded.
    Manager(ConnectionManager),
    /// A Redis Cluster: commands routed by key slot; batches split by
    /// slot by the cache before they get here.
    #[cfg(feature = "cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
    /// A deadpool-redis pool of multiplexed connections.
    #[cfg(feature = "deadpool")]
    Deadpool(deadpool_redis::Pool),
    /// A bb8-redis pool of multiplexed connections.
    #[cfg(feature = "bb8")]
    Bb8(bb8::Pool<bb8_redis::RedisConnectionManager>),
}

/// A pool that could not hand out a connection, as a Redis error.
#[cfg(any(feature = "deadpool", feature = "bb8"))]
fn pool_error(e: impl std::fmt::Display) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::Io,
        "no connection from the pool",
        e.to_string(),
    ))
}

impl Backend {
    /// Sends one command and converts its reply.
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        match self {
            Self::Manager(c) => cmd.query_async(&mut c.clone()).await,
            #[cfg(feature = "cluster")]
            Self::Cluster(c) => cmd.query_async(&mut c.clone()).await,
            #[cfg(feature = "deadpool")]
            Self::Deadpool(pool) => {
                let mut c = pool.get().await.map_err(pool_error)?;
                cmd.query_async(&mut c).await
            }
            #[cfg(feature = "bb8")]
            Self::Bb8(pool) => {
                let mut c = pool.get().await.map_err(pool_error)?;
                cmd.query_async(&mut *c).await
            }
        }
    }

    /// Sends one pipeline (on a cluster: all its keys in one slot).
    pub(crate) async fn query_pipeline<T: FromRedisValue>(
        &self,
        pipe: &Pipeline,
    ) -> RedisResult<T> {
        match self {
            Self::Manager(c) => pipe.query_async(&mut c.clone()).await,
            #[cfg(feature = "cluster")]
            Self::Cluster(c) => pipe.query_async(&mut c.clone()).await,
            #[cfg(feature = "deadpool")]
            Self::Deadpool(pool) => {
                let mut c = pool.get().await.map_err(pool_error)?;
                pipe.query_async(&mut c).await
            }
            #[cfg(feature = "bb8")]
            Self::Bb8(pool) => {
                let mut c = pool.get().await.map_err(pool_error)?;
                pipe.query_async(&mut *c).await
            }
        }
    }

    /// The cluster connection, when this is one.
    #[cfg(feature = "cluster")]
    pub(crate) fn cluster(&self) -> Option<&redis::cluster_async::ClusterConnection> {
        match self {
            Self::Cluster(c) => Some(c),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

/// `namespace:key` as one command argument, written straight into the
/// command's buffer (no `String` per key on the hot path).
#[derive(Clone, Copy)]
pub(crate) struct NsKey<'a> {
    pub(crate) namespace: &'a str,
    pub(crate) key: &'a str,
}

impl ToRedisArgs for NsKey<'_> {
    fn write_redis_args<W: ?Sized + redis::RedisWrite>(&self, out: &mut W) {
        use std::io::Write;
        let mut w = out.writer_for_next_arg();
        // Writing into the command's in-memory buffer cannot fail.
        let _ = w.write_all(self.namespace.as_bytes());
        let _ = w.write_all(b":");
        let _ = w.write_all(self.key.as_bytes());
    }
}

impl redis::ToSingleRedisArg for NsKey<'_> {}
