#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod advisor;
mod builder;
mod client;
mod error;
mod latency;
mod manager;
mod normalize;
mod pool;
mod registry;
mod server;
mod slow;
mod stats;

pub use advisor::{Advice, IndexAdvice, SettingAdvice, StorageKind};
pub use builder::{StatsPoolBuilder, redact_url};
pub use client::{
    Query, StatsClient, StatsRowStream, StatsStatement, StatsTransaction, StatsTransactionBuilder,
};
pub use deadpool_postgres;
pub use deadpool_postgres::RecyclingMethod;
pub use error::{Error, Result};
pub use normalize::normalize;
pub use pool::StatsPool;
pub use registry::OTHER;
pub use server::{
    DatabaseStats, JoinedStatement, ServerStatement, ServerStats, StatementColumns, StatementsInfo,
    TopOrder,
};
pub use slow::SLOW_QUERY_TARGET;
pub use stats::{ClosedCounts, Latency, PoolStats, SlowQuery, StatementStats, Stats};
pub use tokio_postgres;
