//! User profiles through three tiers: the in-process L1 (perfect21-lru,
//! bounded by bytes) → Redis → Postgres, with perfect21-batch coalescing at
//! both remote tiers:
//!
//! 1. concurrent L1 misses go to the `redis_mget` keyed batcher: one
//!    perfect21-redis-cache `get_many_or_set` for all of them — one `MGET`;
//! 2. the ids Redis lacks go to its loader in one call (TTL, single-flight:
//!    a key missed by two batches at once is still loaded once), which
//!    submits them to the `users_by_id` keyed batcher: one
//!    `WHERE id = ANY($1)` through pg-stats for all concurrent loads; the
//!    loaded users are stored with one pipelined `SET`.
//!
//! With caching off, every request is one `WHERE id = $1`.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use perfect21_batch::KeyedBatcher;
use perfect21_lru::{ConcurrentLru, DefaultHashBuilder};
use perfect21_object_pool::ObjectPool;
use perfect21_redis_cache::RedisCache;
use serde::{Deserialize, Serialize};

use super::db::SharedDb;

/// A user as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Whether the account is active.
    pub active: bool,
}

impl User {
    fn from_row(row: &tokio_postgres::Row) -> Self {
        Self {
            id: row.get(0),
            name: row.get(1),
            email: row.get(2),
            active: row.get(3),
        }
    }
}

/// Weighs an L1 entry: the JSON body plus the entry's bookkeeping.
pub type BodyWeigher = fn(&i64, &Bytes) -> u64;
/// The L1: user id → the JSON body served.
pub type L1 = ConcurrentLru<i64, Bytes, DefaultHashBuilder, BodyWeigher>;
/// Id → user, batched (a user that does not exist is `Ok(None)`).
pub type UserBatcher = KeyedBatcher<i64, User, Arc<str>>;

fn weigh(_: &i64, body: &Bytes) -> u64 {
    body.len() as u64 + perfect21_lru::ENTRY_OVERHEAD
}

/// Builds the L1.
pub fn l1(max_bytes: u64, ttl: std::time::Duration) -> Result<L1> {
    ConcurrentLru::builder()
        .max_weight(max_bytes)
        .weigher(weigh as BodyWeigher)
        .time_to_live(ttl)
        .build()
        .map_err(|e| anyhow!("L1: {e}"))
}

const BY_IDS: &str = "SELECT id, name, email, active FROM users WHERE id = ANY($1)";
const BY_ID: &str = "SELECT id, name, email, active FROM users WHERE id = $1";

/// The batcher: each batch is one `WHERE id = ANY($1)` on a balanced read connection.
pub fn batcher(db: SharedDb) -> Result<UserBatcher> {
    KeyedBatcher::builder(move |ids: Vec<i64>| {
        let db = db.clone();
        async move {
            let load = async {
                let conn = db.read().await?;
                let statement = conn.client.prepare_cached(BY_IDS).await?;
                let rows = conn.client.query(&statement, &[&ids]).await;
                conn.done(rows.is_ok());
                Ok::<_, anyhow::Error>(
                    rows?
                        .iter()
                        .map(|row| {
                            let user = User::from_row(row);
                            (user.id, user)
                        })
                        .collect::<Vec<_>>(),
                )
            };
            load.await.map_err(|e| Arc::<str>::from(format!("{e:#}")))
        }
    })
    .name("users_by_id")
    .max_batch_size(256)
    .max_concurrent_batches(4)
    .build()
    .map_err(|e| anyhow!("batcher: {e}"))
}

/// The Redis read path: concurrent L1 misses become one
/// `get_many_or_set` — one `MGET`, the ids it lacks loaded through
/// [`batcher`] → Postgres in one loader call, one pipelined `SET`.
pub fn redis_batcher(redis: RedisCache, users: UserBatcher) -> Result<UserBatcher> {
    KeyedBatcher::builder(move |ids: Vec<i64>| {
        let (redis, users) = (redis.clone(), users.clone());
        async move {
            let keys: Vec<String> = ids.iter().map(|id| key(*id)).collect();
            let id_of: HashMap<String, i64> =
                keys.iter().cloned().zip(ids.iter().copied()).collect();
            // A cached "no such user" (`None`) is an answer too.
            let cached: Vec<Option<Option<User>>> = redis
                .get_many_or_set(&keys, None, move |missing: Vec<String>| async move {
                    let loads = missing.into_iter().map(|key| {
                        let users = users.clone();
                        let id = id_of.get(&key).copied();
                        async move {
                            let id = id.ok_or_else(|| format!("no id for key {key}"))?;
                            let user = users.load(id).await.map_err(|e| e.to_string())?;
                            Ok::<_, String>((key, user))
                        }
                    });
                    futures_util::future::try_join_all(loads).await
                })
                .await
                .map_err(|e| Arc::<str>::from(format!("redis get_many_or_set: {e}")))?;
            Ok::<_, Arc<str>>(
                ids.into_iter()
                    .zip(cached)
                    .filter_map(|(id, hit)| hit.flatten().map(|user| (id, user)))
                    .collect::<Vec<_>>(),
            )
        }
    })
    .name("redis_mget")
    .max_batch_size(128)
    .max_concurrent_batches(4)
    .build()
    .map_err(|e| anyhow!("MGET batcher: {e}"))
}

/// The profile service.
#[derive(Debug, Clone)]
pub struct Profiles {
    /// The in-process tier (None with caching off).
    pub l1: Option<Arc<L1>>,
    /// The Redis tier (None with caching off).
    pub redis: Option<RedisCache>,
    /// L1 misses → one `MGET` (None with caching off).
    pub redis_reads: Option<UserBatcher>,
    /// Redis misses → one `WHERE id = ANY($1)` (None with caching off).
    pub batcher: Option<UserBatcher>,
    /// Serialisation buffers.
    pub buffers: ObjectPool<Vec<u8>>,
    db: SharedDb,
}

/// The Redis key of a user (under the cache's namespace).
pub fn key(id: i64) -> String {
    format!("v1:user:{id}")
}

impl Profiles {
    /// Puts the parts together.
    pub fn new(
        db: SharedDb,
        l1: Option<Arc<L1>>,
        redis: Option<RedisCache>,
        batcher: Option<UserBatcher>,
        buffers: ObjectPool<Vec<u8>>,
    ) -> Result<Self> {
        let redis_reads = match (&redis, &batcher) {
            (Some(redis), Some(users)) => Some(redis_batcher(redis.clone(), users.clone())?),
            _ => None,
        };
        Ok(Self {
            l1,
            redis,
            redis_reads,
            batcher,
            buffers,
            db,
        })
    }

    /// The JSON body of user `id`, or `None` when there is no such user.
    pub async fn get(&self, id: i64) -> Result<Option<Bytes>> {
        if let Some(l1) = &self.l1
            && let Some(body) = l1.get(&id)
        {
            return Ok(Some(body));
        }
        let user = match &self.redis_reads {
            Some(reads) => reads.load(id).await.map_err(|e| anyhow!("{e}"))?,
            None => self.direct(id).await?,
        };
        let Some(user) = user else { return Ok(None) };
        let body = self.encode(&user)?;
        if let Some(l1) = &self.l1 {
            // An entry heavier than the whole budget is refused: fine, it is served anyway.
            let _ = l1.insert(id, body.clone());
        }
        Ok(Some(body))
    }

    /// One `WHERE id = $1`: the path with caching off.
    async fn direct(&self, id: i64) -> Result<Option<User>> {
        let conn = self.db.read().await?;
        let statement = conn.client.prepare_cached(BY_ID).await?;
        let row = conn.client.query_opt(&statement, &[&id]).await;
        conn.done(row.is_ok());
        Ok(row?.as_ref().map(User::from_row))
    }

    /// Serialises through a pooled buffer.
    pub fn encode<T: Serialize>(&self, value: &T) -> Result<Bytes> {
        let mut buffer = self
            .buffers
            .get()
            .map_err(|e| anyhow!("buffer pool: {e}"))?;
        serde_json::to_writer(&mut *buffer, value).context("encoding JSON")?;
        Ok(Bytes::copy_from_slice(&buffer))
    }

    /// The warmer (the original's `APIWarmer`): loads users `1..=n` — the
    /// hottest under the Zipf load — into Redis and L1 in batches of 1000.
    pub async fn warm(&self, n: u64) -> Result<u64> {
        let (Some(redis), Some(l1)) = (&self.redis, &self.l1) else {
            return Ok(0);
        };
        let mut warmed = 0;
        let mut start = 1i64;
        let end = i64::try_from(n).unwrap_or(i64::MAX);
        while start <= end {
            let ids: Vec<i64> = (start..=end.min(start + 999)).collect();
            start += 1000;
            let conn = self.db.read().await?;
            let rows = conn.client.query(BY_IDS, &[&ids]).await;
            conn.done(rows.is_ok());
            let users: Vec<(String, Option<User>)> = rows?
                .iter()
                .map(|row| {
                    let user = User::from_row(row);
                    (key(user.id), Some(user))
                })
                .collect();
            redis
                .set_many(&users, None)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            for (_, user) in users.iter() {
                if let Some(user) = user {
                    let _ = l1.insert(user.id, self.encode(user)?);
                    warmed += 1;
                }
            }
        }
        Ok(warmed)
    }
}
