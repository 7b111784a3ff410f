//! Shared pieces of the `perfect21-lru` measurements: ARC trace reading,
//! the caches under comparison behind one replay interface, and the Zipf
//! key streams the criterion bench and the hit-ratio program both use.

pub mod caches;
pub mod contenders;
pub mod trace;
pub mod zipf;
