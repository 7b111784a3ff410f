#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod backend;
mod builder;
mod cache;
mod clear;
#[cfg(feature = "cluster")]
mod cluster;
mod codec;
mod decode;
mod early;
mod error;
mod fetch;
mod get_or_set;
mod keys;
mod l1;
#[cfg(feature = "local")]
mod local;
mod many_or_set;
mod memoize;
mod reads;
mod redact;
mod refresh;
mod server;
mod stats;
mod writes;

pub use builder::RedisCacheBuilder;
pub use cache::RedisCache;
pub use codec::{Codec, Compression, Json, MsgPack, MsgPackCompact};
pub use error::{CacheError, Result};
pub use keys::{KeyBuilder, escape_glob, stable_hash};
pub use memoize::Memoized;
pub use server::ServerStats;
pub use stats::{CacheStats, CommandFamily, LatencySummary};

/// The decode path of stored values and the glob escaping, for the fuzz
/// targets only (`cargo fuzz` builds with `--cfg fuzzing`); not part of
/// the API.
#[cfg(fuzzing)]
#[doc(hidden)]
#[allow(missing_docs)]
pub mod fuzzing {
    use serde::de::IgnoredAny;

    use crate::codec::{Compression, Framing, Json, MsgPack, MsgPackCompact};

    fn framing(max_value_size: usize, compress_above: Option<usize>, zstd: bool) -> Framing {
        let _ = zstd;
        Framing {
            compress_above,
            max_value_size,
            bounded_reads: false,
            #[cfg(feature = "zstd")]
            compression: if zstd {
                Compression::Zstd { level: 1 }
            } else {
                Compression::Lz4
            },
            #[cfg(not(feature = "zstd"))]
            compression: Compression::Lz4,
        }
    }

    /// Decodes `bytes` as a stored value of codec `codec % 3` without
    /// building it (`IgnoredAny`): whether it decoded.
    pub fn decode(codec: u8, bytes: &[u8], max_value_size: usize) -> bool {
        let f = framing(max_value_size, None, false);
        match codec % 3 {
            0 => f.decode::<_, IgnoredAny>(&Json, bytes).is_ok(),
            1 => f.decode::<_, IgnoredAny>(&MsgPack, bytes).is_ok(),
            _ => f.decode::<_, IgnoredAny>(&MsgPackCompact, bytes).is_ok(),
        }
    }

    /// Encodes `text` (compressed from 16 bytes, LZ4 or zstd) and decodes
    /// it back; `None` when the encoding was refused (too large).
    pub fn round_trip(text: &str, max_value_size: usize, zstd: bool) -> Option<String> {
        let f = framing(max_value_size, Some(16), zstd);
        let bytes = f.encode(&Json, text).ok()?;
        Some(
            f.decode::<_, String>(&Json, &bytes)
                .expect("a value this crate wrote reads back"),
        )
    }
}
