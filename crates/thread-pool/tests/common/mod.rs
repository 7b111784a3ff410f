//! Helpers shared by the integration tests: a gate that holds tasks until
//! the test opens it, and polling of the pool's stats with a deadline (for
//! what takes real time, like a keep-alive running out). No sleeps: every
//! wait is on a condition.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use perfect21_thread_pool::{Stats, ThreadPool};

/// The longest any test waits for a condition before failing.
pub(crate) const DEADLINE: Duration = Duration::from_secs(20);

/// Polls the pool's stats until `condition` holds, yielding in between;
/// fails with `what` and the last stats after [`DEADLINE`].
pub(crate) fn eventually(
    pool: &ThreadPool,
    what: &str,
    mut condition: impl FnMut(&Stats) -> bool,
) -> Stats {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let stats = pool.stats();
        if condition(&stats) {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {stats:?}"
        );
        std::thread::yield_now();
    }
}

/// Holds the tasks that call [`Gate::wait`] until the test calls
/// [`Gate::open`].
#[derive(Debug, Default)]
pub(crate) struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
    /// Tasks that have reached the gate.
    entered: AtomicUsize,
}

impl Gate {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Waits until the gate opens; panics (failing the task) if the test
    /// never opens it.
    pub(crate) fn wait(&self) {
        self.entered.fetch_add(1, SeqCst);
        let mut open = self.open.lock().unwrap();
        let deadline = Instant::now() + DEADLINE;
        while !*open {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "the gate was never opened");
            open = self.opened.wait_timeout(open, left).unwrap().0;
        }
    }

    pub(crate) fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

/// Runs `f` with the pool on a new thread (to block there: a shutdown, a
/// blocked submission).
pub(crate) fn on_thread<T: Send + 'static>(
    pool: &Arc<ThreadPool>,
    f: impl FnOnce(&ThreadPool) -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let pool = Arc::clone(pool);
    std::thread::spawn(move || f(&pool))
}

/// A value whose destructor panics.
pub(crate) struct Grenade;

impl Drop for Grenade {
    fn drop(&mut self) {
        panic!("a destructor panicked");
    }
}

/// Occupies `n` threads of `pool` with tasks waiting on a gate, and
/// returns once all `n` are running.
pub(crate) fn occupy(pool: &ThreadPool, n: usize) -> Arc<Gate> {
    let gate = Gate::new();
    for _ in 0..n {
        let gate = Arc::clone(&gate);
        pool.execute(move || gate.wait()).unwrap();
    }
    eventually(pool, "the gated tasks to be running", |_| {
        gate.entered.load(SeqCst) == n
    });
    gate
}
