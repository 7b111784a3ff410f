//! How stored values are fetched: `GET` and `MGET`, or — with
//! [`bounded_reads`](crate::RedisCacheBuilder::bounded_reads) — `GETRANGE
//! key 0 max_value_size`, so that Redis never sends a reader more than
//! `max_value_size + 1` bytes of one value whatever is stored (one byte
//! over is how an oversize value is recognised; it then reads as a decode
//! error).
//!
//! A read that may fill the local tier also asks `PTTL` of each key in the
//! same round trip ([`Lifetime`]): Redis reports an expiry to the tier only
//! when it reclaims the key, which can be long after the TTL ran out, so
//! an L1 copy is kept no longer than Redis keeps the value.
//!
//! `GETRANGE` answers an empty string for a key that does not exist, and
//! every value this crate writes has at least its header byte, so an empty
//! reply is a miss (an empty value written by someone else reads as a miss
//! too, where `GET` makes it a decode error).

use std::time::{Duration, Instant};

use redis::{Cmd, RedisWrite, ToRedisArgs, Value};

use crate::backend::NsKey;
use crate::cache::RedisCache;
use crate::codec::Codec;
use crate::error::Result;
use crate::stats::CommandFamily;

/// A key argument whose length is known before it is written, so an
/// `MGET` reserves its buffer once.
pub(crate) trait KeyArg: ToRedisArgs {
    /// The argument's length in bytes.
    fn arg_len(&self) -> usize;
}

impl KeyArg for NsKey<'_> {
    fn arg_len(&self) -> usize {
        self.namespace.len() + 1 + self.key.len()
    }
}

impl KeyArg for &String {
    fn arg_len(&self) -> usize {
        self.len()
    }
}

impl KeyArg for &str {
    fn arg_len(&self) -> usize {
        self.len()
    }
}

/// How long Redis keeps a value, from its `PTTL` and the moment the read
/// was sent (so the answer errs early, never late).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifetime {
    /// No expiry.
    Forever,
    /// Gone at this instant.
    Until(Instant),
    /// No such key, or expiring now.
    Gone,
}

impl Lifetime {
    /// From a `PTTL` reply to a read sent at `sent`.
    pub(crate) fn from_pttl(ms: i64, sent: Instant) -> Self {
        match ms {
            -1 => Self::Forever,
            ms if ms > 0 => Self::Until(sent + Duration::from_millis(ms.unsigned_abs())),
            _ => Self::Gone,
        }
    }

    /// The earlier of this and `fresh_until` (Unix ms, as a value's header
    /// holds it) read at `now_ms` / `now`: a value past its fresh-until
    /// time must reach `get_or_set` from Redis, where stale-while-revalidate
    /// and early refresh see it, not from L1.
    pub(crate) fn until_fresh_end(
        self,
        fresh_until: Option<u64>,
        now_ms: u64,
        now: Instant,
    ) -> Self {
        let Some(until) = fresh_until else {
            return self;
        };
        let end = now + Duration::from_millis(until.saturating_sub(now_ms));
        match self {
            Self::Gone => Self::Gone,
            Self::Until(at) if at <= end => self,
            _ if until <= now_ms => Self::Gone,
            _ => Self::Until(end),
        }
    }

    #[cfg_attr(not(feature = "local"), allow(dead_code))]
    /// What is left of it at `now`: `None` for no expiry, zero when gone.
    pub(crate) fn remaining(self, now: Instant) -> Option<Duration> {
        match self {
            Self::Forever => None,
            Self::Until(at) => Some(at.saturating_duration_since(now)),
            Self::Gone => Some(Duration::ZERO),
        }
    }
}

impl<C: Codec> RedisCache<C> {
    /// The last byte index a bounded read asks for, when reads are bounded.
    fn read_bound(&self) -> Option<usize> {
        let framing = &self.inner.framing;
        framing.bounded_reads.then_some(framing.max_value_size)
    }

    /// Fetches one stored value (`None`: no such key).
    pub(crate) async fn fetch_one(&self, key: impl KeyArg) -> Result<Option<Vec<u8>>> {
        let Some(last) = self.read_bound() else {
            return self
                .run(CommandFamily::Read, redis::cmd("GET").arg(key))
                .await;
        };
        let bytes: Vec<u8> = self
            .run(
                CommandFamily::Read,
                redis::cmd("GETRANGE").arg(key).arg(0).arg(last),
            )
            .await?;
        Ok(non_empty(bytes))
    }

    /// Fetches several stored values with one round trip, in the order of
    /// `keys`: one `MGET`, or a pipeline of bounded `GETRANGE`s. A key
    /// holding another type reads as absent either way (`MGET` answers nil
    /// for it; the pipeline's `WRONGTYPE` for that key alone is taken so).
    pub(crate) async fn fetch_many<A: KeyArg>(&self, keys: &[A]) -> Result<Vec<Option<Vec<u8>>>> {
        let Some(last) = self.read_bound() else {
            let mut cmd = Cmd::new();
            cmd.arg("MGET");
            cmd.reserve_space_for_args(keys.iter().map(KeyArg::arg_len));
            for key in keys {
                cmd.arg(key);
            }
            return self.run(CommandFamily::Read, &cmd).await;
        };
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for key in keys {
            pipe.cmd("GETRANGE").arg(key).arg(0).arg(last);
        }
        let replies: Vec<Value> = self.run_pipeline(CommandFamily::Read, &pipe).await?;
        self.values_of(replies, keys.len(), Shape::Ranges)
    }

    /// [`fetch_many`](Self::fetch_many) for reads that may fill L1: each
    /// value with how long Redis keeps it, from a `PTTL` per key in the same
    /// round trip. One key is read as [`fetch_one`](Self::fetch_one) reads
    /// it (`GET`: a key of another type is an error), several as
    /// `fetch_many` reads them.
    pub(crate) async fn fetch_many_lived<A: KeyArg>(
        &self,
        keys: &[A],
    ) -> Result<Vec<(Option<Vec<u8>>, Lifetime)>> {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        let shape = match (self.read_bound(), keys) {
            (Some(last), _) => {
                for key in keys {
                    pipe.cmd("GETRANGE").arg(key).arg(0).arg(last);
                }
                if keys.len() == 1 {
                    Shape::OneRange
                } else {
                    Shape::Ranges
                }
            }
            (None, [one]) => {
                pipe.cmd("GET").arg(one);
                Shape::One
            }
            (None, _) => {
                pipe.cmd("MGET").arg(keys);
                Shape::Mget
            }
        };
        for key in keys {
            pipe.cmd("PTTL").arg(key);
        }
        let sent = Instant::now();
        let mut replies: Vec<Value> = self.run_pipeline(CommandFamily::Read, &pipe).await?;
        let reads = if shape == Shape::Mget { 1 } else { keys.len() };
        if replies.len() != reads + keys.len() {
            return Err(self.failed(
                CommandFamily::Read,
                &format!(
                    "a read pipeline of {} commands was answered with {} replies",
                    reads + keys.len(),
                    replies.len()
                ),
            ));
        }
        let ttls = replies.split_off(reads);
        let values = self.values_of(replies, keys.len(), shape)?;
        let mut lifetimes = Vec::with_capacity(ttls.len());
        for ttl in ttls {
            match ttl {
                Value::Int(ms) => lifetimes.push(Lifetime::from_pttl(ms, sent)),
                other => {
                    return Err(self.failed(
                        CommandFamily::Read,
                        &format!("PTTL answered {}", kind(&other)),
                    ));
                }
            }
        }
        Ok(values.into_iter().zip(lifetimes).collect())
    }

    /// The values of `keys` keys in a read pipeline's `replies` (without
    /// ignored-error wrapping: each slot is a reply or a server error).
    fn values_of(
        &self,
        replies: Vec<Value>,
        keys: usize,
        shape: Shape,
    ) -> Result<Vec<Option<Vec<u8>>>> {
        let slots = match (shape, replies.as_slice()) {
            (Shape::Mget, [Value::Array(_)]) => match replies.into_iter().next() {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            (Shape::Mget, _) => {
                return Err(self.failed(
                    CommandFamily::Read,
                    "MGET answered something other than an array",
                ));
            }
            _ => replies,
        };
        if slots.len() != keys {
            return Err(self.failed(
                CommandFamily::Read,
                &format!(
                    "a read of {keys} keys was answered with {} values",
                    slots.len()
                ),
            ));
        }
        slots
            .into_iter()
            .map(|slot| read_slot(slot, shape).map_err(|m| self.failed(CommandFamily::Read, &m)))
            .collect()
    }
}

/// Which commands read the values of a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One `GET`.
    One,
    /// One `GETRANGE`.
    OneRange,
    /// One `MGET`.
    Mget,
    /// A `GETRANGE` per key.
    Ranges,
}

/// One key's value from its slot of a read reply.
fn read_slot(slot: Value, shape: Shape) -> std::result::Result<Option<Vec<u8>>, String> {
    let ranged = matches!(shape, Shape::OneRange | Shape::Ranges);
    match slot {
        Value::Nil => Ok(None),
        Value::BulkString(bytes) if ranged => Ok(non_empty(bytes)),
        Value::BulkString(bytes) => Ok(Some(bytes)),
        // As `MGET` answers nil for it, a batch reads a key of another
        // type as absent; a single read reports it, as `GET` does.
        Value::ServerError(e) if shape == Shape::Ranges && e.code() == "WRONGTYPE" => Ok(None),
        Value::ServerError(e) => Err(e.to_string()),
        other => Err(format!("a read answered {}", kind(&other))),
    }
}

/// The kind of a reply, for an error message (never its contents: they
/// may be large, or personal).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Int(_) => "an integer",
        Value::BulkString(_) => "a string",
        Value::Array(_) => "an array",
        Value::ServerError(_) => "an error",
        _ => "an unexpected type",
    }
}

/// A `GETRANGE` reply as a `GET` would give it: empty means no key.
fn non_empty(bytes: Vec<u8>) -> Option<Vec<u8>> {
    (!bytes.is_empty()).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pttl_reply_is_a_lifetime_that_errs_early() {
        let sent = Instant::now();
        let later = sent + Duration::from_millis(300);
        assert_eq!(Lifetime::from_pttl(-1, sent).remaining(later), None);
        assert_eq!(
            Lifetime::from_pttl(-2, sent).remaining(sent),
            Some(Duration::ZERO)
        );
        assert_eq!(
            Lifetime::from_pttl(0, sent).remaining(sent),
            Some(Duration::ZERO)
        );
        // Counted from when the read was sent, not when the reply came.
        let lifetime = Lifetime::from_pttl(1000, sent);
        assert_eq!(lifetime.remaining(later), Some(Duration::from_millis(700)));
        assert_eq!(
            lifetime.remaining(sent + Duration::from_secs(5)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn a_fresh_until_time_shortens_a_lifetime_never_lengthens_it() {
        let now = Instant::now();
        let now_ms = 1_000_000;
        let in_a_minute = Lifetime::Until(now + Duration::from_secs(60));
        let fresh_1s = Some(now_ms + 1000);
        assert_eq!(
            in_a_minute.until_fresh_end(fresh_1s, now_ms, now),
            Lifetime::Until(now + Duration::from_secs(1))
        );
        assert_eq!(
            Lifetime::Forever.until_fresh_end(fresh_1s, now_ms, now),
            Lifetime::Until(now + Duration::from_secs(1))
        );
        let in_100ms = Lifetime::Until(now + Duration::from_millis(100));
        assert_eq!(in_100ms.until_fresh_end(fresh_1s, now_ms, now), in_100ms);
        assert_eq!(
            in_a_minute.until_fresh_end(Some(now_ms - 1), now_ms, now),
            Lifetime::Gone
        );
        assert_eq!(in_a_minute.until_fresh_end(None, now_ms, now), in_a_minute);
    }

    fn bulk(bytes: &[u8]) -> Value {
        Value::BulkString(bytes.to_vec())
    }

    #[test]
    fn read_slots_are_values_misses_or_errors_by_shape() {
        assert_eq!(read_slot(bulk(b"a"), Shape::Mget), Ok(Some(b"a".to_vec())));
        assert_eq!(read_slot(Value::Nil, Shape::One), Ok(None));
        // GET of an empty value is a value (that will not decode); a
        // GETRANGE's empty answer is a missing key.
        assert_eq!(read_slot(bulk(b""), Shape::One), Ok(Some(Vec::new())));
        assert_eq!(read_slot(bulk(b""), Shape::Ranges), Ok(None));
        assert!(read_slot(Value::Int(3), Shape::Mget).is_err());
        assert!(read_slot(Value::Array(vec![bulk(b"a")]), Shape::Ranges).is_err());
    }
}
