#![doc = include_str!("../README.md")]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(unsafe_op_in_unsafe_fn)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod builder;
mod config;
mod error;
mod growth;
mod handle;
mod handoff;
mod idle;
mod panic;
mod parker;
mod policy;
mod pool;
mod pool_state;
mod queue;
mod registry;
mod run_task;
mod scope;
mod shutdown;
mod state;
mod stats;
mod submit;
mod sync;
mod task;
mod wait_idle;
mod worker;

#[cfg(all(test, perfect21_loom))]
mod loom_tests;

pub use builder::{DEFAULT_KEEP_ALIVE, DEFAULT_THREAD_NAME, ThreadPoolBuilder};
pub use config::RejectionPolicy;
pub use error::{Error, SubmitError, TaskError};
pub use handle::TaskHandle;
pub use panic::{PanicPayload, panic_message};
pub use policy::{BacklogDoubling, Fixed, Load, OnDemand, ScalingPolicy};
pub use pool::ThreadPool;
pub use scope::Scope;
pub use state::MAX_THREADS;
pub use stats::Stats;
