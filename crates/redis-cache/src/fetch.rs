//! How stored values are fetched: `GET` and `MGET`, or — with
//! [`bounded_reads`](crate::RedisCacheBuilder::bounded_reads) — `GETRANGE
//! key 0 max_value_size`, so that Redis never sends a reader more than
//! `max_value_size + 1` bytes of one value whatever is stored (one byte
//! over is how an oversize value is recognised; it then reads as a decode
//! error).
//!
//! `GETRANGE` answers an empty string for a key that does not exist, and
//! every value this crate writes has at least its header byte, so an empty
//! reply is a miss (an empty value written by someone else reads as a miss
//! too, where `GET` makes it a decode error).

use redis::{Cmd, RedisWrite, ToRedisArgs};

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
}

/// A `GETRANGE` reply as a `GET` would give it: empty means no key.
fn non_empty(bytes: Vec<u8>) -> Option<Vec<u8>> {
    (!bytes.is_empty()).then_some(bytes)
}
