//! The crate's clock: tokio's [`Instant`](tokio::time::Instant). Outside a
//! paused tokio runtime it reads `std::time::Instant::now()`; in tests with
//! the clock paused, every duration the crate measures is exact, so tests
//! assert figures without depending on how fast the machine is.

pub(crate) use tokio::time::Instant;
