//! The pool's threads: started here, joined at shutdown. A retired thread
//! is not joined by anyone: the next change here (a start, a retirement,
//! an exit) drops its finished handle, which releases the thread, so exited
//! threads never pile up.
//!
//! The OS spawns a thread outside the lock (a spawn takes tens of
//! microseconds; under the lock it would serialise concurrent growth and
//! hold up every exiting worker). So that a shutdown still joins every
//! thread, a start is counted in `starting` under the lock before the spawn
//! and its handle recorded under the lock after it: a shutdown that finds no
//! handle to join waits while any start is in flight, even one whose thread
//! has already run and exited (it is joined once its handle lands).

use std::io;

use crate::sync::{self, Condvar, JoinHandle, Mutex, MutexGuard};

#[derive(Debug)]
pub(crate) struct Registry {
    pub(crate) threads: Mutex<Threads>,
    /// Notified when a thread is recorded, a start fails, or a thread exits.
    pub(crate) changed: Condvar,
}

#[derive(Debug, Default)]
pub(crate) struct Threads {
    /// Handles of the threads started and not yet reaped or joined.
    pub(crate) handles: Vec<JoinHandle<()>>,
    /// Starts between their count here and their handle here (spawning).
    pub(crate) starting: usize,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Self {
            threads: Mutex::new(Threads::default()),
            changed: Condvar::new(),
        }
    }

    /// Starts a thread with `spawn`, outside the lock; its handle is
    /// recorded after (see the module docs).
    pub(crate) fn start(
        &self,
        spawn: impl FnOnce() -> io::Result<JoinHandle<()>>,
    ) -> io::Result<()> {
        {
            let mut threads = self.lock();
            reap(&mut threads.handles);
            threads.starting += 1;
        }
        // Counted out even if `spawn` unwinds, so no shutdown waits for ever.
        let started = Starting(self);
        let spawned = spawn();
        std::mem::forget(started);
        let mut threads = self.lock();
        threads.starting -= 1;
        let result = spawned.map(|handle| threads.handles.push(handle));
        drop(threads);
        self.changed.notify_all();
        result
    }

    /// Runs `update` (a change of the thread count) under the lock, then
    /// wakes a waiting shutdown.
    pub(crate) fn update(&self, update: impl FnOnce()) {
        let mut threads = self.lock();
        reap(&mut threads.handles);
        update();
        drop(threads);
        self.changed.notify_all();
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Threads> {
        sync::lock(&self.threads)
    }
}

/// Takes a start back out of `starting` if the spawn unwinds (forgotten
/// when it returns).
struct Starting<'a>(&'a Registry);

impl Drop for Starting<'_> {
    fn drop(&mut self) {
        self.0.lock().starting -= 1;
        self.0.changed.notify_all();
    }
}

/// Drops the handles of threads that have finished (releasing them).
fn reap(handles: &mut Vec<JoinHandle<()>>) {
    #[cfg(not(perfect21_loom))]
    handles.retain(|handle| !handle.is_finished());
    #[cfg(perfect21_loom)]
    let _ = handles;
}

#[cfg(all(test, not(perfect21_loom)))]
mod tests {
    use super::Registry;

    #[test]
    fn a_thread_is_spawned_outside_the_registry_lock() {
        // While one submitter's spawn is in the OS, an exiting worker (or
        // another submitter) must get the lock: try it from inside the spawn.
        let registry = Registry::new();
        let mut lock_was_free = None;
        registry
            .start(|| {
                lock_was_free = Some(registry.threads.try_lock().is_ok());
                std::thread::Builder::new().spawn(|| ())
            })
            .unwrap();
        assert_eq!(lock_was_free, Some(true), "spawned under the registry lock");
        let handles = std::mem::take(&mut registry.lock().handles);
        assert_eq!(handles.len(), 1, "the started thread is recorded");
        for handle in handles {
            handle.join().unwrap();
        }
    }
}
