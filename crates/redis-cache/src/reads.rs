//! Reads: `get`, `get_many`, `exists`, `ttl`.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::cache::RedisCache;
use crate::codec::Codec;
use crate::decode::{Found, Tally};
use crate::error::Result;
use crate::stats::CommandFamily;

impl<C: Codec> RedisCache<C> {
    /// Reads `key`. `Ok(None)` on a miss, and — counted separately — on a
    /// value that does not decode and (fail-open) on a Redis error.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        if self.has_local() {
            let full = self.full_key(key);
            if let Some(value) = self.read_l1(&full) {
                return Ok(Some(value));
            }
            let fence = self.l1_fence(&full);
            let fetched = self.fetch_for_l1(&[&full], fence.is_some()).await;
            let raw = self.soften(fetched.map(Some), || None)?;
            return Ok(match raw.and_then(|mut one| one.pop()) {
                Some(found) => self.decode_found(&full, found, fence).await,
                None => None,
            });
        }
        let raw: Option<Option<Vec<u8>>> =
            self.soften(self.fetch_one(self.ns_key(key)).await.map(Some), || None)?;
        let Some(raw) = raw else {
            return Ok(None);
        };
        let mut tally = Tally::default();
        let found = self.decode_raw(raw.as_deref(), &mut tally);
        tally.flush(&self.inner.counters);
        Ok(match found {
            Found::Value(value, _) => Some(value),
            Found::Missing => None,
            Found::Corrupt => {
                self.forget_corrupt(&[self.full_key(key)]).await;
                None
            }
        })
    }

    /// Reads many keys in one round trip (`MGET`, or a pipeline — see
    /// [`bounded_reads`](crate::RedisCacheBuilder::bounded_reads)); the result is in the order of
    /// `keys`, `None` where [`get`](Self::get) would give `None`.
    pub async fn get_many<T: DeserializeOwned, K: AsRef<str>>(
        &self,
        keys: &[K],
    ) -> Result<Vec<Option<T>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        #[cfg(feature = "cluster")]
        if self.inner.backend.cluster().is_some() {
            return self.cluster_get_many(keys).await;
        }
        if !self.has_local() {
            return self.mget_into(keys).await;
        }
        let full: Vec<String> = keys.iter().map(|k| self.full_key(k.as_ref())).collect();
        let mut out: Vec<Option<T>> = Vec::with_capacity(full.len());
        let mut remote: Vec<usize> = Vec::new();
        for (i, key) in full.iter().enumerate() {
            let local = self.read_l1(key);
            if local.is_none() {
                remote.push(i);
            }
            out.push(local);
        }
        if remote.is_empty() {
            return Ok(out);
        }
        let remote_keys: Vec<&String> = remote.iter().map(|&i| &full[i]).collect();
        let fences: Vec<_> = remote_keys.iter().map(|k| self.l1_fence(k)).collect();
        let fenced = fences.iter().any(Option::is_some);
        let fetched = self.fetch_for_l1(&remote_keys, fenced).await;
        let replies = self.soften(fetched.map(Some), || None)?;
        let Some(replies) = replies else {
            return Ok(out);
        };
        for ((found, &i), fence) in replies.into_iter().zip(&remote).zip(fences) {
            out[i] = self.decode_found(&full[i], found, fence).await;
        }
        Ok(out)
    }

    /// Fetches `keys` in one round trip and decodes the replies in order:
    /// one counter update per call, corrupt values forgotten together at
    /// the end.
    pub(crate) async fn mget_into<T: DeserializeOwned, K: AsRef<str>>(
        &self,
        keys: &[K],
    ) -> Result<Vec<Option<T>>> {
        let args: Vec<_> = keys.iter().map(|k| self.ns_key(k.as_ref())).collect();
        let replies: Option<Vec<Option<Vec<u8>>>> =
            self.soften(self.fetch_many(&args).await.map(Some), || None)?;
        let Some(replies) = replies else {
            return Ok(keys.iter().map(|_| None).collect());
        };
        let mut tally = Tally::default();
        let mut corrupt = Vec::new();
        let out = replies
            .iter()
            .zip(keys)
            .map(
                |(raw, key)| match self.decode_raw(raw.as_deref(), &mut tally) {
                    Found::Value(value, _) => Some(value),
                    Found::Missing => None,
                    Found::Corrupt => {
                        corrupt.push(self.full_key(key.as_ref()));
                        None
                    }
                },
            )
            .collect();
        tally.flush(&self.inner.counters);
        self.forget_corrupt(&corrupt).await;
        Ok(out)
    }

    /// Whether `key` exists (`EXISTS`; fail-open: `false`).
    pub async fn exists(&self, key: &str) -> Result<bool> {
        let r = self
            .run(
                CommandFamily::Other,
                redis::cmd("EXISTS").arg(self.full_key(key)),
            )
            .await;
        self.soften(r.map(|n: u64| n > 0), || false)
    }

    /// The remaining time to live of `key` (`PTTL`); `None` when the key
    /// does not exist or never expires (fail-open: `None`).
    pub async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        let r = self
            .run(
                CommandFamily::Other,
                redis::cmd("PTTL").arg(self.full_key(key)),
            )
            .await;
        self.soften(
            r.map(|ms: i64| u64::try_from(ms).ok().map(Duration::from_millis)),
            || None,
        )
    }
}
