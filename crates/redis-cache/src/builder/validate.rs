//! The options' bounds, checked by `build()` before anything connects;
//! each refusal names its option.

use std::time::Duration;

use super::{MAX_REDIS_VALUE, RedisCacheBuilder};
#[cfg(feature = "zstd")]
use crate::codec::Compression;
use crate::error::{CacheError, Result};

impl<C> RedisCacheBuilder<C> {
    pub(super) fn validate(&self, namespace: &str) -> Result<()> {
        if namespace.is_empty() || namespace.len() > 128 {
            return Err(CacheError::config("namespace", "must be 1–128 bytes long"));
        }
        if namespace.chars().any(char::is_control) {
            return Err(CacheError::config(
                "namespace",
                "must not contain control characters",
            ));
        }
        if matches!(self.default_ttl, Some(t) if t < Duration::from_millis(1)) {
            return Err(CacheError::config("default_ttl", "must be at least 1 ms"));
        }
        if self.compress_above == Some(0) {
            return Err(CacheError::config(
                "compress_above",
                "must be at least 1 byte",
            ));
        }
        if !(1..=MAX_REDIS_VALUE).contains(&self.max_value_size) {
            return Err(CacheError::config(
                "max_value_size",
                "must be 1 byte – 512 MiB",
            ));
        }
        let range = Duration::from_millis(1)..=Duration::from_secs(3600);
        if !range.contains(&self.command_timeout) {
            return Err(CacheError::config("command_timeout", "must be 1 ms – 1 h"));
        }
        if !range.contains(&self.connect_timeout) {
            return Err(CacheError::config("connect_timeout", "must be 1 ms – 1 h"));
        }
        if matches!(self.stale_grace, Some(g) if g < Duration::from_millis(1) || g > Duration::from_secs(86_400))
        {
            return Err(CacheError::config(
                "stale_while_revalidate",
                "must be 1 ms – 1 day",
            ));
        }
        #[cfg(feature = "zstd")]
        if let Compression::Zstd { level } = self.compression
            && !(1..=22).contains(&level)
        {
            return Err(CacheError::config("compression", "zstd level must be 1–22"));
        }
        if let Some(early) = &self.early
            && !(early.beta > 0.0 && early.beta <= 100.0)
        {
            return Err(CacheError::config(
                "early_refresh",
                "beta must be a number above 0 and at most 100",
            ));
        }
        if !(1..=100_000).contains(&self.scan_count) {
            return Err(CacheError::config("scan_count", "must be 1–100000"));
        }
        #[cfg(feature = "local")]
        if let Some(local) = self.local {
            if local.max_bytes == 0 {
                return Err(CacheError::config(
                    "local_tier",
                    "max_bytes must be at least 1",
                ));
            }
            if !range.contains(&local.ttl) {
                return Err(CacheError::config("local_tier", "ttl must be 1 ms – 1 h"));
            }
            if self.url.is_none() {
                return Err(CacheError::config(
                    "local_tier",
                    "needs `url`: it opens its own tracking connection",
                ));
            }
        }
        Ok(())
    }
}
