//! The pool's threads: started here, joined at shutdown. A retired thread
//! is not joined by anyone: the next change here (a start, a retirement,
//! an exit) drops its finished handle, which releases the thread, so exited
//! threads never pile up.

use std::io;

use crate::sync::{self, Condvar, JoinHandle, Mutex, MutexGuard, thread};

#[derive(Debug)]
pub(crate) struct Registry {
    pub(crate) handles: Mutex<Vec<JoinHandle<()>>>,
    /// Notified when a thread is added or exits.
    pub(crate) changed: Condvar,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Self {
            handles: Mutex::new(Vec::new()),
            changed: Condvar::new(),
        }
    }

    /// Starts a thread. Its handle is recorded before the lock is released,
    /// so a shutdown that sees the thread counted also finds its handle.
    pub(crate) fn start(
        &self,
        name: String,
        stack_size: Option<usize>,
        main: impl FnOnce() + Send + 'static,
    ) -> io::Result<()> {
        let mut handles = self.lock();
        reap(&mut handles);
        let mut builder = thread::Builder::new().name(name);
        if let Some(size) = stack_size {
            builder = builder.stack_size(size);
        }
        handles.push(builder.spawn(main)?);
        drop(handles);
        self.changed.notify_all();
        Ok(())
    }

    /// Runs `update` (a change of the thread count) under the lock, then
    /// wakes a waiting shutdown.
    pub(crate) fn update(&self, update: impl FnOnce()) {
        let mut handles = self.lock();
        reap(&mut handles);
        update();
        drop(handles);
        self.changed.notify_all();
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Vec<JoinHandle<()>>> {
        sync::lock(&self.handles)
    }
}

/// Drops the handles of threads that have finished (releasing them).
fn reap(handles: &mut Vec<JoinHandle<()>>) {
    #[cfg(not(perfect21_loom))]
    handles.retain(|handle| !handle.is_finished());
    #[cfg(perfect21_loom)]
    let _ = handles;
}
