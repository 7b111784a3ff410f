//! SIGINT / SIGTERM / SIGHUP: remembered, so every command can stop its
//! children and tear its servers down instead of dying mid-way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once, at start).
pub(crate) fn install() {
    if let Err(e) = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst)) {
        eprintln!("xtask: cannot handle signals ({e}); Ctrl-C may leave servers behind");
    }
}

/// Whether a signal asked us to stop.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Blocks until a signal arrives.
pub(crate) fn wait() {
    while !interrupted() {
        std::thread::sleep(Duration::from_millis(50));
    }
}
