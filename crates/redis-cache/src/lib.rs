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
#[cfg(feature = "cluster")]
mod cluster;
mod codec;
mod early;
mod error;
mod flight;
mod keys;
#[cfg(feature = "local")]
mod local;
mod memoize;
mod redact;
mod server;
mod stats;

pub use builder::RedisCacheBuilder;
pub use cache::RedisCache;
pub use codec::{Codec, Compression, Json, MsgPack, MsgPackCompact};
pub use error::{CacheError, Result};
pub use keys::{KeyBuilder, escape_glob, stable_hash};
pub use memoize::Memoized;
pub use server::ServerStats;
pub use stats::{CacheStats, CommandFamily, LatencySummary};
