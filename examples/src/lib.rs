//! Shared parts of the Perfect21 example programs.

pub mod flags;
pub mod loadgen;
pub mod showcase;
pub mod smoke;
