//! What the fuzz targets share: letting through the panics they provoke on
//! purpose; and the checkers some targets hold a crate to (`exposition`, a
//! strict Prometheus exposition parser; `redis_glob`).
//!
//! libfuzzer-sys installs a panic hook that aborts on every panic, caught or
//! not. The targets make user hooks (listeners, weighers, clocks, batch
//! functions, drops) panic on purpose, inside `catch_unwind` or inside the
//! crate that must contain them; those must unwind, and every other panic
//! must still abort (it is a finding).

pub mod exposition;
pub mod redis_glob;

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, PanicHookInfo, catch_unwind};
use std::sync::Once;

thread_local! {
    static HOOKS_MAY_PANIC: Cell<bool> = const { Cell::new(false) };
}

/// Installs, once per process, a hook that lets a panic unwind when
/// `expected` accepts it or when it happens inside [`guarded`], and hands
/// every other panic to libfuzzer-sys's hook (which aborts).
pub fn let_expected_panics_unwind(expected: fn(&PanicHookInfo<'_>) -> bool) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !HOOKS_MAY_PANIC.get() && !expected(info) {
                abort(info);
            }
        }));
    });
}

/// Runs `f`, whose user hooks may panic on purpose, and catches the panic.
pub fn guarded<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    HOOKS_MAY_PANIC.set(true);
    let result = catch_unwind(AssertUnwindSafe(f));
    HOOKS_MAY_PANIC.set(false);
    result
}

/// For targets whose only expected panics run inside [`guarded`].
pub fn none_outside_guarded(_: &PanicHookInfo<'_>) -> bool {
    false
}
