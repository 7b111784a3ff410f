//! The connection under the cache: one multiplexed, auto-reconnecting
//! `ConnectionManager` (the default, measured fastest), or a Redis Cluster
//! connection (feature `cluster`).

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
}

impl Backend {
    /// Sends one command and converts its reply.
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        match self {
            Self::Manager(c) => cmd.query_async(&mut c.clone()).await,
            #[cfg(feature = "cluster")]
            Self::Cluster(c) => cmd.query_async(&mut c.clone()).await,
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
        }
    }

    /// The cluster connection, when this is one.
    #[cfg(feature = "cluster")]
    pub(crate) fn cluster(&self) -> Option<&redis::cluster_async::ClusterConnection> {
        match self {
            Self::Cluster(c) => Some(c),
            Self::Manager(_) => None,
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
