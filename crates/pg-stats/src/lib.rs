#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod acquire;
mod advisor;
mod builder;
mod call;
mod client;
mod clock;
mod error;
mod latency;
mod lease;
mod lex;
mod manager;
mod methods;
mod normalize;
mod outcome;
mod pool;
mod query;
mod redact;
mod registry;
mod row_stream;
mod server;
mod slow;
mod stats;
mod transaction;

pub use advisor::{Advice, IndexAdvice, SettingAdvice, StorageKind};
pub use builder::StatsPoolBuilder;
pub use client::StatsClient;
pub use deadpool_postgres;
pub use deadpool_postgres::RecyclingMethod;
pub use error::{Error, Result};
pub use normalize::normalize;
pub use pool::StatsPool;
pub use query::{Query, StatsStatement};
pub use redact::redact_url;
pub use registry::OTHER;
pub use row_stream::StatsRowStream;
pub use server::{
    DatabaseStats, JoinedStatement, ServerStatement, ServerStats, StatementColumns, StatementsInfo,
    TopOrder,
};
pub use slow::SLOW_QUERY_TARGET;
pub use stats::{ClosedCounts, Latency, PoolStats, SlowQuery, StatementStats, Stats};
pub use tokio_postgres;
pub use transaction::{StatsTransaction, StatsTransactionBuilder};
