#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod balancer;
mod builder;
mod clock;
mod context;
mod endpoint;
mod error;
mod guard;
mod health;
mod outlier;
mod panic_mode;
mod set;
mod settings;
mod shared;
mod stable_hash;
mod stats;
mod strategy;

pub use balancer::Balancer;
pub use builder::BalancerBuilder;
pub use clock::{Clock, ManualClock, SystemClock};
pub use context::PickContext;
pub use error::Error;
pub use guard::PickGuard;
pub use health::HealthCheck;
pub use stats::{BalancerStats, EndpointStats};
pub use strategy::{
    ConsistentHash, LeastOutstanding, PeakEwma, Random, RoundRobin, Score,
    SmoothWeightedRoundRobin, Strategy, WeightedP2c,
};
