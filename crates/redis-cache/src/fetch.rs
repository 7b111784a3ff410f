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

use redis::{Cmd, FromRedisValue, ParsingError, RedisWrite, ToRedisArgs, Value};

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

/// The replies of a read pipeline with a `PTTL` per key after the reads:
/// `[MGET reply, ttl…]` or `[GETRANGE reply…, ttl…]`.
struct WithTtls {
    values: Vec<Option<Vec<u8>>>,
    ttls: Vec<i64>,
}

impl FromRedisValue for WithTtls {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        let Value::Array(mut items) = v else {
            return Err(String::from(
                "a read pipeline answered with something other than an array",
            )
            .into());
        };
        if let Some(Value::Array(_)) = items.first() {
            let ttls = items.split_off(1);
            let mget = items.pop().unwrap_or(Value::Nil);
            Ok(Self {
                values: FromRedisValue::from_redis_value(mget)?,
                ttls: i64::from_redis_values(ttls)?,
            })
        } else {
            let ttls = items.split_off(items.len() / 2);
            Ok(Self {
                values: <Vec<u8>>::from_redis_values(items)?
                    .into_iter()
                    .map(non_empty)
                    .collect(),
                ttls: i64::from_redis_values(ttls)?,
            })
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
    /// `keys`: one `MGET`, or a pipeline of bounded `GETRANGE`s.
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
        for key in keys {
            pipe.cmd("GETRANGE").arg(key).arg(0).arg(last);
        }
        let replies: Vec<Vec<u8>> = self.run_pipeline(CommandFamily::Read, &pipe).await?;
        Ok(replies.into_iter().map(non_empty).collect())
    }

    /// [`fetch_many`](Self::fetch_many) for reads that may fill L1: each
    /// value with how long Redis keeps it, in the same round trip.
    pub(crate) async fn fetch_many_lived<A: KeyArg>(
        &self,
        keys: &[A],
    ) -> Result<Vec<(Option<Vec<u8>>, Lifetime)>> {
        let mut pipe = redis::pipe();
        match self.read_bound() {
            Some(last) => {
                for key in keys {
                    pipe.cmd("GETRANGE").arg(key).arg(0).arg(last);
                }
            }
            None => {
                pipe.cmd("MGET").arg(keys);
            }
        }
        for key in keys {
            pipe.cmd("PTTL").arg(key);
        }
        let sent = Instant::now();
        let replies: WithTtls = self.run_pipeline(CommandFamily::Read, &pipe).await?;
        if replies.values.len() != keys.len() || replies.ttls.len() != keys.len() {
            return Err(crate::error::CacheError::Redis(format!(
                "a read of {} keys was answered with {} values and {} TTLs",
                keys.len(),
                replies.values.len(),
                replies.ttls.len()
            )));
        }
        Ok(replies
            .values
            .into_iter()
            .zip(replies.ttls)
            .map(|(value, ms)| (value, Lifetime::from_pttl(ms, sent)))
            .collect())
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

    fn bulk(bytes: &[u8]) -> Value {
        Value::BulkString(bytes.to_vec())
    }

    #[test]
    fn read_pipelines_with_ttls_parse_in_either_form() {
        let mget = Value::Array(vec![
            Value::Array(vec![bulk(b"a"), Value::Nil]),
            Value::Int(5),
            Value::Int(-2),
        ]);
        let parsed = WithTtls::from_redis_value(mget).unwrap();
        assert_eq!(parsed.values, vec![Some(b"a".to_vec()), None]);
        assert_eq!(parsed.ttls, vec![5, -2]);
        let ranges = Value::Array(vec![bulk(b"a"), bulk(b""), Value::Int(-1), Value::Int(-2)]);
        let parsed = WithTtls::from_redis_value(ranges).unwrap();
        assert_eq!(parsed.values, vec![Some(b"a".to_vec()), None]);
        assert_eq!(parsed.ttls, vec![-1, -2]);
        // Hostile shapes are errors, not panics.
        assert!(WithTtls::from_redis_value(Value::Int(1)).is_err());
        assert!(
            WithTtls::from_redis_value(Value::Array(vec![Value::Array(vec![]), bulk(b"x")]))
                .is_err()
        );
    }
}
