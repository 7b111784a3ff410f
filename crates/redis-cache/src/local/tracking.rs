//! The tracking connection: RESP3, `CLIENT TRACKING ON BCAST PREFIX
//! namespace:`, and a task that turns Redis's invalidation pushes into L1
//! evictions, heartbeats the connection, and reconnects when it is lost.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use futures_util::future::BoxFuture;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ProtocolVersion, PushInfo, PushKind, Value};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::Tier;

/// How often the tracking connection is pinged, and how long a ping may
/// take: a connection that stops answering is treated as lost (L1
/// emptied) within two of these.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// Pause between reconnection attempts.
const RETRY: Duration = Duration::from_millis(200);

/// An open tracking connection and the pushes it receives.
pub(super) struct Link {
    connection: MultiplexedConnection,
    pushes: UnboundedReceiver<PushInfo>,
}

pub(super) struct Tracker {
    client: redis::Client,
    prefix: String,
    name: String,
    connect_timeout: Duration,
    command_timeout: Duration,
}

impl Tracker {
    /// The tracker of `namespace`, connecting like `client` but in RESP3
    /// (whatever the URL asked for: pushes need it).
    pub(super) fn new(
        client: &redis::Client,
        namespace: &str,
        connect_timeout: Duration,
        command_timeout: Duration,
    ) -> redis::RedisResult<Self> {
        let info = client.get_connection_info().clone();
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        Ok(Self {
            client: redis::Client::open(info.set_redis_settings(settings))?,
            prefix: format!("{namespace}:"),
            name: client_name(namespace),
            connect_timeout,
            command_timeout,
        })
    }

    /// Opens a connection and turns tracking on; returns once Redis has
    /// acknowledged it, so every later write of the namespace is reported.
    pub(super) async fn connect(&self) -> redis::RedisResult<Link> {
        let (sender, pushes) = unbounded_channel();
        let config = AsyncConnectionConfig::new()
            .set_push_sender(sender)
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.command_timeout));
        let mut connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        // Named, so an operator (or a test) can find it in `CLIENT LIST`.
        redis::cmd("CLIENT")
            .arg("SETNAME")
            .arg(&self.name)
            .query_async::<()>(&mut connection)
            .await?;
        redis::cmd("CLIENT")
            .arg("TRACKING")
            .arg("ON")
            .arg("BCAST")
            .arg("PREFIX")
            .arg(&self.prefix)
            .query_async::<()>(&mut connection)
            .await?;
        Ok(Link { connection, pushes })
    }

    /// Evicts what Redis reports until the link is lost; then empties L1,
    /// reconnects and starts over, for as long as the tier lives. `first`
    /// is `None` when the tier starts without tracking (a fail-open build
    /// while Redis is down): it connects here. However the task ends —
    /// the tier dropped, its runtime shut down, a panic — L1 is emptied
    /// and no read fills it again.
    pub(super) async fn run(self, tier: Arc<Tier>, first: Option<Link>) {
        let _deaf_on_exit = DeafOnExit(Arc::clone(&tier));
        let mut link = first;
        loop {
            let Link {
                connection,
                mut pushes,
            } = match link.take() {
                Some(link) => link,
                None => match self.connect().await {
                    Ok(link) => {
                        tier.fences.listening();
                        link
                    }
                    Err(_) => {
                        tokio::time::sleep(RETRY).await;
                        continue;
                    }
                },
            };
            let mut heartbeat = tokio::time::interval(HEARTBEAT);
            heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The ping in flight, polled beside the pushes (a slow reply
            // never holds an invalidation back) under its own bound.
            let mut ping: Option<BoxFuture<'static, bool>> = None;
            loop {
                tokio::select! {
                    push = pushes.recv() => match push {
                        Some(push) if push.kind == PushKind::Invalidate => {
                            invalidate(&tier, &push.data);
                        }
                        Some(push) if push.kind == PushKind::Disconnection => break,
                        Some(_) => {}
                        None => break,
                    },
                    answered = async {
                        match ping.as_mut() {
                            Some(ping) => ping.await,
                            None => std::future::pending().await,
                        }
                    }, if ping.is_some() => {
                        ping = None;
                        if !answered {
                            break;
                        }
                    }
                    _ = heartbeat.tick(), if ping.is_none() => {
                        let mut connection = connection.clone();
                        ping = Some(Box::pin(async move {
                            let ping = redis::cmd("PING");
                            let reply = tokio::time::timeout(
                                HEARTBEAT,
                                ping.query_async::<Value>(&mut connection),
                            );
                            matches!(reply.await, Ok(Ok(_)))
                        }));
                    }
                }
            }
            tracing::warn!(target: "perfect21.redis_cache", prefix = %self.prefix, "local-tier tracking connection lost; L1 emptied until it is back");
            tier.deaf();
        }
    }
}

/// Empties L1 and stops its fills when the tracking task ends.
struct DeafOnExit(Arc<Tier>);

impl Drop for DeafOnExit {
    fn drop(&mut self) {
        self.0.deaf();
    }
}

/// The tracking connection's `CLIENT SETNAME`: `perfect21-l1:` and the
/// namespace, with what a client name cannot hold (spaces, newlines,
/// anything outside printable ASCII) as `_`.
pub(crate) fn client_name(namespace: &str) -> String {
    let mut name = String::from("perfect21-l1:");
    name.extend(
        namespace
            .chars()
            .map(|c| if c.is_ascii_graphic() { c } else { '_' }),
    );
    name
}

/// Applies one `invalidate` push: an array of keys, or nil when the whole
/// database was flushed.
fn invalidate(tier: &Tier, data: &[Value]) {
    for item in data {
        match item {
            Value::Array(keys) | Value::Set(keys) => {
                for key in keys {
                    // Only UTF-8 keys can be in L1; other bytes name none of them.
                    if let Value::BulkString(bytes) = key
                        && let Ok(key) = std::str::from_utf8(bytes)
                    {
                        tier.forget(key);
                        tier.invalidations.fetch_add(1, Relaxed);
                    }
                }
            }
            Value::Nil => {
                tier.forget_all();
                tier.invalidations.fetch_add(1, Relaxed);
            }
            _ => {}
        }
    }
}
