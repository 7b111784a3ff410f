//! Throwaway servers for Perfect21's tests and for `cargo xtask`.
//!
//! Every server is started from the binaries installed on the machine, on a
//! free loopback port, with no password, inside a private scratch directory.
//! Dropping the handle stops the process and removes the directory — on panic
//! too, because it happens in `Drop`. A server whose owner process died
//! without dropping it (killed by a signal) is found and removed by the next
//! [`sweep_orphans`] call, which every `start` makes first.
//!
//! * [`RedisServer`] — standalone `redis-server`, no persistence.
//! * [`RedisCluster`] — three masters, waited on until `cluster_state:ok`.
//! * [`PgServer`] — `initdb` + `postgres` with `pg_stat_statements` preloaded
//!   and a database `perfect21` that has the extension. As root, Postgres runs
//!   as the `postgres` system user in a directory that user can reach.
//!
//! Tests that only *use* a server read its URL with [`env::redis_url`],
//! [`env::redis_cluster_urls`] or [`env::database_url`]; those fail with a
//! message that says to run `cargo xtask test` when the variable is missing,
//! so a test never passes by skipping. Tests that must kill or restart a
//! server start a private one here.
//!
//! ```no_run
//! let redis = perfect21_testkit::RedisServer::start()?;
//! println!("{}", redis.url()); // redis://127.0.0.1:PORT
//! # Ok::<(), perfect21_testkit::Error>(())
//! ```
#![forbid(unsafe_code)]

mod binaries;
mod cluster;
pub mod env;
mod error;
pub mod logs;
mod port;
mod postgres;
mod process;
mod redis;
pub mod resp;
mod scratch;

pub use cluster::RedisCluster;
pub use error::{Error, Result};
pub use postgres::DATABASE;
pub use postgres::PgServer;
pub use process::exists as process_exists;
pub use redis::RedisServer;
pub use scratch::{SCRATCH_PREFIX, sweep_orphans};
