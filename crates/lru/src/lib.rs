#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod builder;
mod cache;
mod clock;
mod concurrent;
mod core;
mod error;
mod flight;
mod iter;
mod list;
mod stats;
mod sync;
mod weigher;

pub use builder::{ConcurrentLruBuilder, LruCacheBuilder};
pub use cache::LruCache;
pub use clock::{Clock, ManualClock, SystemClock};
pub use concurrent::ConcurrentLru;
pub use error::{Error, Rejected};
pub use hashbrown::DefaultHashBuilder;
pub use iter::Iter;
pub use stats::{CacheStats, EvictionCause};
pub use weigher::{ENTRY_OVERHEAD, HeapSize, HeapSizeWeigher, UnitWeigher, Weigher};
