//! Panics in user code — tasks, hooks, the scaling policy, the panic
//! handler itself — are caught here, so a worker never dies of one.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// A caught panic's payload, as `std::panic::catch_unwind` returns it.
pub type PanicPayload = Box<dyn Any + Send + 'static>;

/// Receives the panics no [`TaskHandle`](crate::TaskHandle) will receive.
pub(crate) type PanicHandler = Arc<dyn Fn(PanicPayload) + Send + Sync>;

/// A thread start or stop hook.
pub(crate) type ThreadHook = Arc<dyn Fn() + Send + Sync>;

/// The message of a panic payload: the `&str` or `String` given to
/// `panic!`, or a placeholder for other payload types.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        (*message).to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "Box<dyn Any> (a panic payload that is not a string)".to_string()
    }
}

/// The default panic handler: an `error` event.
pub(crate) fn log_panic(payload: PanicPayload) {
    tracing::error!(
        target: "perfect21_thread_pool",
        panic = %panic_message(payload.as_ref()),
        "a task panicked and no task handle was there to receive it"
    );
    drop_quietly(payload);
}

/// Hands `payload` to `handler`; a handler that panics in turn is logged.
pub(crate) fn deliver(handler: &PanicHandler, payload: PanicPayload) {
    if let Err(second) = catch_unwind(AssertUnwindSafe(|| handler(payload))) {
        tracing::error!(
            target: "perfect21_thread_pool",
            panic = %panic_message(second.as_ref()),
            "the panic handler panicked"
        );
        drop_quietly(second);
    }
}

/// Runs a thread hook; a panic is logged and otherwise ignored.
pub(crate) fn run_hook(which: &'static str, hook: &ThreadHook) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| hook())) {
        tracing::error!(
            target: "perfect21_thread_pool",
            hook = which,
            panic = %panic_message(payload.as_ref()),
            "a thread hook panicked"
        );
        drop_quietly(payload);
    }
}

/// Drops `value`, catching a panic from its destructor (a task's captures,
/// a payload whose `Drop` panics).
pub(crate) fn drop_quietly<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        // A second panicking destructor would abort; leak this payload.
        std::mem::forget(payload);
    }
}
