//! Containing panics from user code the batcher runs for its callers: the
//! batch function (its call and its future), and the `Clone` and `Drop` of
//! items, outputs and errors. A panic there fails at most its own batch
//! and never unwinds into another caller's future or a batcher task.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::BatchError;

/// Drops `value`, containing a panic in its `Drop`.
pub(crate) fn drop_quietly<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        tracing::warn!(
            target: "perfect21_batch",
            message = %message(payload),
            "a user value panicked while being dropped"
        );
    }
}

/// Holds a value whose `Drop` is user code (a batch function's future):
/// dropped quietly, whenever that happens.
pub(crate) struct Quiet<T>(pub(crate) Option<T>);

impl<T> Drop for Quiet<T> {
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            drop_quietly(value);
        }
    }
}

/// Clones `error` for one more caller; a panicking `Clone` becomes
/// [`BatchError::Panicked`] for that caller.
pub(crate) fn clone_error<E: Clone>(error: &BatchError<E>) -> BatchError<E> {
    catch_unwind(AssertUnwindSafe(|| error.clone())).unwrap_or_else(|payload| panicked(payload))
}

/// A panic payload as [`BatchError::Panicked`].
pub(crate) fn panicked<E>(payload: Box<dyn Any + Send>) -> BatchError<E> {
    BatchError::Panicked {
        message: message(payload),
    }
}

/// A panic payload's message.
fn message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(message) => (*message).to_string(),
            Err(_) => "a panic with a non-string payload".to_string(),
        },
    }
}
