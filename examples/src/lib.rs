//! Shared parts of the Perfect21 example programs.

pub mod smoke;
