#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod batcher;
mod builder;
mod config;
mod deliver;
mod error;
mod execute;
mod flights;
mod keyed;
mod load;
mod plan;
mod policy;
mod queue;
mod runner;
mod shared;
mod stats;
mod submission;
mod sync;
mod timer;
mod unwind;

#[cfg(all(test, perfect21_loom))]
mod loom_tests;

pub use batcher::Batcher;
pub use builder::{BatcherBuilder, KeyedBatcherBuilder};
pub use error::{BatchError, ConfigError, TrySubmitError};
pub use keyed::KeyedBatcher;
pub use policy::{FlushPolicy, FlushReason};
pub use stats::{BatchStats, FailureCounts, FlushCounts, SizeSummary, WaitSummary};
pub use submission::Submission;
