//! Clearing by pattern: `SCAN MATCH … COUNT` and batched `UNLINK`, never
//! `KEYS`.

use redis::Cmd;

use crate::cache::RedisCache;
use crate::codec::Codec;
use crate::error::Result;
use crate::keys::escape_glob;
use crate::l1::Changed;
use crate::stats::{CommandFamily, Count};

impl<C: Codec> RedisCache<C> {
    /// Removes every key of this cache's namespace with `SCAN MATCH … COUNT`
    /// and batched `UNLINK` — never `KEYS`, so Redis keeps serving other
    /// clients. Returns how many keys were removed (fail-open: removed so
    /// far). Keys written during the scan may survive.
    pub async fn clear_namespace(&self) -> Result<u64> {
        self.clear_glob(&format!("{}:*", escape_glob(&self.inner.namespace)))
            .await
    }

    /// Removes every key of the namespace that starts with `prefix`. Glob
    /// characters in `prefix` are escaped: `clear_prefix("a*")` removes
    /// `a*1` but not `ab`.
    pub async fn clear_prefix(&self, prefix: &str) -> Result<u64> {
        self.clear_glob(&format!(
            "{}:{}*",
            escape_glob(&self.inner.namespace),
            escape_glob(prefix)
        ))
        .await
    }

    /// Removes the keys of the namespace matching the Redis glob `pattern`
    /// (applied to the part after `namespace:`). The pattern is used as
    /// given: escape user-supplied parts with [`escape_glob`].
    pub async fn clear_pattern(&self, pattern: &str) -> Result<u64> {
        self.clear_glob(&format!("{}:{pattern}", escape_glob(&self.inner.namespace)))
            .await
    }

    /// One `SCAN cursor MATCH glob COUNT scan_count` step.
    pub(crate) fn scan_cmd(&self, cursor: u64, glob: &str) -> Cmd {
        redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(glob)
            .arg("COUNT")
            .arg(self.inner.scan_count)
            .to_owned()
    }

    async fn clear_glob(&self, glob: &str) -> Result<u64> {
        #[cfg(feature = "cluster")]
        if self.inner.backend.cluster().is_some() {
            return self.cluster_clear_glob(glob).await;
        }
        let mut cursor: u64 = 0;
        let mut removed = 0u64;
        loop {
            let cmd = self.scan_cmd(cursor, glob);
            let step: Result<(u64, Vec<Vec<u8>>)> = self.run(CommandFamily::Scan, &cmd).await;
            let (next, keys) = match step {
                Ok(step) => step,
                Err(e) => return self.soften(Err(e), || removed),
            };
            for chunk in keys.chunks(self.inner.scan_count) {
                let unlinked: Result<u64> = self
                    .run(CommandFamily::Delete, redis::cmd("UNLINK").arg(chunk))
                    .await;
                match unlinked {
                    Ok(n) => {
                        self.inner.counters.add(Count::Deletes, n);
                        removed += n;
                    }
                    Err(e) => return self.soften(Err(e), || removed),
                }
            }
            if next == 0 {
                // Other instances hear of each removed key from Redis.
                self.l1_forget(Changed::All);
                return Ok(removed);
            }
            cursor = next;
        }
    }
}
