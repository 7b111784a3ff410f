//! An object as the pool stores it.

use std::time::{Duration, Instant};

/// A pooled object and, when `idle_timeout` is set, when it went idle. Boxed
/// so that moving it between guard, thread cache and shared stack moves one
/// pointer, whatever the size of `T`; aligned to a cache-line pair so two
/// threads using neighbouring objects never write to one line.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct Entry<T> {
    pub(crate) value: T,
    pub(crate) idle_since: Option<Instant>,
}

pub(crate) type Boxed<T> = Box<Entry<T>>;

impl<T> Entry<T> {
    pub(crate) fn boxed(value: T) -> Boxed<T> {
        Box::new(Self {
            value,
            idle_since: None,
        })
    }

    /// Whether it has been idle for `timeout` or longer at `now`.
    #[inline]
    pub(crate) fn expired(&self, now: Instant, timeout: Duration) -> bool {
        self.idle_since
            .is_some_and(|since| now.saturating_duration_since(since) >= timeout)
    }
}
