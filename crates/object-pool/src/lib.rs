#![doc = include_str!("../README.md")]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(unsafe_op_in_unsafe_fn)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod builder;
mod clock;
mod config;
mod core;
mod entry;
mod error;
mod guard;
mod local;
mod pool;
mod reset;
mod shared;
mod slots;
mod stats;
mod sync;
mod thread_id;
mod wait;

#[cfg(all(test, perfect21_loom))]
mod loom_tests;
#[cfg(all(test, not(perfect21_loom)))]
mod unsafe_tests;

pub use builder::{DEFAULT_MAX_IDLE, DEFAULT_THREAD_CACHE, ObjectPoolBuilder};
pub use clock::{Clock, SystemClock};
pub use error::Error;
pub use guard::{Pooled, PooledOwned};
pub use pool::ObjectPool;
pub use reset::Reset;
pub use stats::Stats;
