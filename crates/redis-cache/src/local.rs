//! The local tier (feature `local`): an in-process L1 of encoded values in
//! front of Redis, bounded by weight, with a short TTL, kept coherent
//! across processes through Redis pub/sub on the namespace.
//!
//! Every write of a cache with a local tier sends, in the same pipeline as
//! the write, a `PUBLISH` on `perfect21:l1:{namespace}` naming the keys it
//! changed; every instance with a local tier subscribes and evicts them
//! (its own writes update its L1 directly). If the subscription drops, the
//! whole L1 is emptied and the subscription is re-established, so a lost
//! message can only serve a stale value until the L1 TTL at most.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use moka::sync::Cache;
use redis::Cmd;

use crate::cache::Changed;

/// Options of the local tier; see
/// [`RedisCacheBuilder::local_tier`](crate::RedisCacheBuilder::local_tier).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LocalOptions {
    pub(crate) max_bytes: u64,
    pub(crate) ttl: Duration,
}

pub(crate) type L1 = Cache<String, Arc<[u8]>>;

pub(crate) struct Local {
    pub(crate) l1: L1,
    channel: String,
    instance: String,
    listener: tokio::task::AbortHandle,
}

impl Drop for Local {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl Local {
    /// Subscribes (waiting for the confirmation, so no later write is
    /// missed) and starts the listener.
    pub(crate) async fn start(
        client: redis::Client,
        namespace: &str,
        options: LocalOptions,
    ) -> redis::RedisResult<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let l1: L1 = Cache::builder()
            .max_capacity(options.max_bytes)
            .weigher(|key: &String, value: &Arc<[u8]>| {
                u32::try_from(key.len() + value.len()).unwrap_or(u32::MAX)
            })
            .time_to_live(options.ttl)
            .build();
        let channel = format!("perfect21:l1:{namespace}");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let instance = format!(
            "{}-{nanos}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&channel).await?;
        let listener = tokio::spawn(listen(
            client,
            channel.clone(),
            instance.clone(),
            l1.clone(),
            pubsub,
        ))
        .abort_handle();
        Ok(Self {
            l1,
            channel,
            instance,
            listener,
        })
    }

    /// The `PUBLISH` announcing `changed` to the other instances.
    pub(crate) fn publish(&self, changed: Changed<'_>) -> Cmd {
        let keys = match changed {
            Changed::Keys(keys) => Some(keys),
            Changed::All => None,
        };
        let message = serde_json::to_string(&(&self.instance, keys)).unwrap_or_default();
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(message)
            .to_owned()
    }
}

async fn listen(
    client: redis::Client,
    channel: String,
    instance: String,
    l1: L1,
    first: redis::aio::PubSub,
) {
    let mut pubsub = Some(first);
    loop {
        let connection = match pubsub.take() {
            Some(connection) => connection,
            None => {
                let attempt = async {
                    let mut p = client.get_async_pubsub().await?;
                    p.subscribe(&channel).await?;
                    Ok::<_, redis::RedisError>(p)
                };
                match attempt.await {
                    Ok(p) => {
                        // Messages may have been missed while disconnected.
                        l1.invalidate_all();
                        p
                    }
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                }
            }
        };
        let mut messages = connection.into_on_message();
        while let Some(message) = messages.next().await {
            let Ok(payload) = message.get_payload::<String>() else {
                continue;
            };
            match serde_json::from_str::<(String, Option<Vec<String>>)>(&payload) {
                Ok((sender, _)) if sender == instance => {}
                Ok((_, Some(keys))) => {
                    for key in keys {
                        l1.invalidate(&key);
                    }
                }
                Ok((_, None)) | Err(_) => l1.invalidate_all(),
            }
        }
        tracing::warn!(target: "perfect21.redis_cache", channel, "local-tier invalidation subscription lost; L1 emptied, resubscribing");
        l1.invalidate_all();
    }
}
