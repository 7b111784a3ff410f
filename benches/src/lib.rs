//! Helpers shared by Perfect21's benches and measurement programs.
//!
//! Conventions every bench file follows:
//! * criterion group ids start with the bench file's stem
//!   (`benches/benches/lru.rs` → `lru/get_hit`), so `cargo xtask bench` can
//!   put each result in its crate's section of `docs/benchmarks.md`;
//! * Perfect21's own entry in a group has a function id starting with
//!   `perfect21`; peers use their crate name. Every other row's ratio is
//!   computed against the `perfect21` row of the same group and parameter;
//! * measurements criterion does not make are written with [`results::write`].

pub mod balancer_sim;
pub mod batch;
pub mod cpu;
pub mod interleave;
pub mod lru;
pub mod pg_stats;
pub mod redis_cache;
pub mod results;

/// Reads a service URL for a bench; panics, saying how to run the benches,
/// when it is unset (a server-backed bench never passes by measuring
/// nothing).
pub fn service_url(name: &str) -> String {
    match std::env::var(name) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{name} is not set: these benches measure against a real server; run them through `cargo xtask bench` (or `cargo xtask test`), which starts one"
        ),
    }
}
