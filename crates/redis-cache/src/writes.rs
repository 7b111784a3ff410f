//! Writes: `set` and its conditional and batched forms, `expire`,
//! `delete`. A write never fills L1 (reads do, fenced); after its reply it
//! evicts the keys it touched from this instance's L1, and Redis's
//! invalidation messages evict them from every other instance's.

use std::time::Duration;

use redis::Cmd;
use serde::Serialize;

use crate::cache::RedisCache;
use crate::codec::Codec;
use crate::error::Result;
use crate::l1::Changed;
use crate::stats::{CommandFamily, Count};

impl<C: Codec> RedisCache<C> {
    pub(crate) fn set_cmd(
        &self,
        key: impl redis::ToSingleRedisArg,
        bytes: &[u8],
        ttl: Option<Duration>,
    ) -> Cmd {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(bytes);
        if let Some(ttl) = self.ttl_or_default(ttl) {
            cmd.arg("PX").arg(ttl.as_millis().max(1) as u64);
        }
        cmd
    }

    /// Stores `value` under `key` for `ttl` (`None`: the default TTL).
    /// Encoding errors and oversize values are always returned.
    pub async fn set<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let bytes = self.encode(value)?;
        self.set_encoded(key, &bytes, ttl).await
    }

    pub(crate) async fn set_encoded(
        &self,
        key: &str,
        bytes: &[u8],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let r = if self.has_local() {
            let full = [self.full_key(key)];
            let cmd = self.set_cmd(&full[0], bytes, ttl);
            let r = self.run::<()>(CommandFamily::Write, &cmd).await;
            self.l1_forget(Changed::Keys(&full));
            r
        } else {
            let cmd = self.set_cmd(self.ns_key(key), bytes, ttl);
            self.run::<()>(CommandFamily::Write, &cmd).await
        };
        if r.is_ok() {
            let counters = &self.inner.counters;
            counters.add(Count::Sets, 1);
            counters.add(Count::BytesWritten, bytes.len() as u64);
        }
        self.soften(r, || ())
    }

    /// Stores `value` only if `key` does not exist (`SET … NX`); whether it
    /// was stored.
    pub async fn set_nx<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        self.set_conditional(key, value, ttl, "NX").await
    }

    /// Stores `value` only if `key` exists (`SET … XX`); whether it was
    /// stored.
    pub async fn set_xx<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        self.set_conditional(key, value, ttl, "XX").await
    }

    async fn set_conditional<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
        condition: &str,
    ) -> Result<bool> {
        let bytes = self.encode(value)?;
        let full = [self.full_key(key)];
        let mut cmd = self.set_cmd(&full[0], &bytes, ttl);
        cmd.arg(condition);
        let r: Result<Option<String>> = self.run(CommandFamily::Write, &cmd).await;
        self.l1_forget(Changed::Keys(&full));
        let stored = r.map(|reply| reply.is_some());
        if let Ok(true) = stored {
            self.inner.counters.add(Count::Sets, 1);
            self.inner
                .counters
                .add(Count::BytesWritten, bytes.len() as u64);
        }
        self.soften(stored, || false)
    }

    /// Stores every pair in one pipeline of `SET … PX` (one round trip).
    /// Every value is encoded first: one that fails or is too large fails
    /// the call before anything is sent.
    pub async fn set_many<K: AsRef<str>, T: Serialize>(
        &self,
        items: &[(K, T)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let encoded = items
            .iter()
            .map(|(key, value)| Ok((key.as_ref(), self.encode(value)?)))
            .collect::<Result<Vec<(&str, Vec<u8>)>>>()?;
        self.set_many_encoded(&encoded, ttl).await
    }

    /// [`set_many`](Self::set_many) of values already encoded.
    pub(crate) async fn set_many_encoded(
        &self,
        items: &[(&str, Vec<u8>)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        #[cfg(feature = "cluster")]
        if self.inner.backend.cluster().is_some() {
            return self.cluster_set_many(items, ttl).await;
        }
        let mut pipe = redis::pipe();
        let mut bytes_total = 0u64;
        let mut written = Vec::with_capacity(if self.has_local() { items.len() } else { 0 });
        for (key, bytes) in items {
            bytes_total += bytes.len() as u64;
            if self.has_local() {
                let full = self.full_key(key);
                pipe.add_command(self.set_cmd(&full, bytes, ttl)).ignore();
                written.push(full);
            } else {
                pipe.add_command(self.set_cmd(self.ns_key(key), bytes, ttl))
                    .ignore();
            }
        }
        let r = self.run_pipeline::<()>(CommandFamily::Write, &pipe).await;
        self.l1_forget(Changed::Keys(&written));
        if r.is_ok() {
            self.inner.counters.add(Count::Sets, items.len() as u64);
            self.inner.counters.add(Count::BytesWritten, bytes_total);
        }
        self.soften(r, || ())
    }

    /// Sets a new time to live on `key` (`PEXPIRE`); whether the key exists.
    pub async fn expire(&self, key: &str, ttl: Duration) -> Result<bool> {
        let cmd = redis::cmd("PEXPIRE")
            .arg(self.full_key(key))
            .arg(ttl.as_millis().max(1) as u64)
            .to_owned();
        let r = self.run(CommandFamily::Other, &cmd).await;
        self.soften(r.map(|n: u64| n > 0), || false)
    }

    /// Removes `key` (`UNLINK`); whether it existed.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        self.delete_many(&[key]).await.map(|n| n > 0)
    }

    /// Removes keys with one `UNLINK`; how many existed.
    pub async fn delete_many<K: AsRef<str>>(&self, keys: &[K]) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let full: Vec<String> = keys.iter().map(|k| self.full_key(k.as_ref())).collect();
        let r = self.unlink(&full).await;
        self.soften(r, || 0)
    }

    pub(crate) async fn unlink(&self, full_keys: &[String]) -> Result<u64> {
        #[cfg(feature = "cluster")]
        if self.inner.backend.cluster().is_some() {
            return self.cluster_unlink(full_keys).await;
        }
        let cmd = redis::cmd("UNLINK").arg(full_keys).to_owned();
        let removed: Result<u64> = self.run(CommandFamily::Delete, &cmd).await;
        self.l1_forget(Changed::Keys(full_keys));
        let removed = removed?;
        self.inner.counters.add(Count::Deletes, removed);
        Ok(removed)
    }
}
