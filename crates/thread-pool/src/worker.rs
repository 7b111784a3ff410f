//! A worker thread's life: run queued tasks; when there are none, spin
//! briefly, then park on the idle stack; retire after `keep_alive` idle
//! (above `min_threads`); leave at shutdown once the queue is empty.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use crate::idle::Leave;
use crate::panic;
use crate::parker::Parker;
use crate::pool_state::PoolState;
use crate::stats::Event;
use crate::sync::{self, thread, thread_local};

/// Rounds of polling before a worker parks: the first `SPIN_ROUNDS` back
/// off exponentially on the CPU's spin hint (1, 2, … 32 pauses), the next
/// `YIELD_ROUNDS` yield the CPU. About 10–30 µs in all on an idle machine:
/// a task arriving within that time costs no wake-up system call, and an
/// idle pool burns no CPU beyond it.
#[cfg(not(perfect21_loom))]
const SPIN_ROUNDS: u32 = 6;
#[cfg(not(perfect21_loom))]
const YIELD_ROUNDS: u32 = 10;
// Loom explores every interleaving of each round: one of each is enough.
#[cfg(perfect21_loom)]
const SPIN_ROUNDS: u32 = 1;
#[cfg(perfect21_loom)]
const YIELD_ROUNDS: u32 = 0;

/// The shortest wait before a thread the scaling policy kept asks again.
const RECHECK: Duration = Duration::from_millis(100);

#[cfg(not(perfect21_loom))]
thread_local! {
    /// The pool this thread works for (`PoolState::id`), 0 on other threads.
    static CURRENT_POOL: Cell<usize> = const { Cell::new(0) };
}
#[cfg(perfect21_loom)]
thread_local! {
    static CURRENT_POOL: Cell<usize> = Cell::new(0);
}

/// The pool the calling thread works for, 0 if none.
pub(crate) fn current_pool() -> usize {
    CURRENT_POOL.with(Cell::get)
}

/// What a parked worker does next.
enum Next {
    /// Claimed (or shut down): look for work.
    Work,
    /// Withdrew before sleeping: a spinner again, holding a token.
    Spin,
    Retire,
}

/// A worker's life. `spinning`: it was started idle, already counted with
/// a spinning token, so it starts by looking for work as a spinner does.
pub(crate) fn run(shared: Arc<PoolState>, me: Arc<Parker>, mut spinning: bool) {
    CURRENT_POOL.with(|pool| pool.set(shared.id()));
    let counters = shared.counters.register();
    if let Some(hook) = &shared.config.on_thread_start {
        panic::run_hook("on_thread_start", hook);
    }
    let retired = loop {
        if !std::mem::take(&mut spinning) {
            while let Some(task) = shared.queue.pop() {
                counters.started();
                counters.finished(shared.run_task(task));
            }
            if shared.queue.is_drained() {
                break false;
            }
            shared.workers.start_spinning();
        }
        if let Some(transit) = spin(&shared) {
            let first = if transit {
                let first = shared.queue.pop_then(|| shared.workers.transit_done());
                // Out of transit, now look again (the drain loop does).
                sync::announce_then_look();
                first
            } else {
                shared.queue.pop()
            };
            if let Some(task) = first {
                counters.started();
                counters.finished(shared.run_task(task));
            }
            continue;
        }
        match park(&shared, &me) {
            Next::Work => {}
            Next::Spin => spinning = true,
            Next::Retire => break true,
        }
    };
    if let Some(hook) = &shared.config.on_thread_stop {
        panic::run_hook("on_thread_stop", hook);
    }
    shared.counters.unregister(&counters);
    if !retired {
        // A retired thread left the count when it retired.
        shared.threads.update(|| {
            shared.workers.thread_exited();
            shared.counters.add(Event::ThreadRetired, 1);
        });
    }
    shared.notify_quiet();
    CURRENT_POOL.with(|pool| pool.set(0));
}

/// Polls the queue for a while, holding a spinning token. `Some`: work (or
/// shutdown) appeared, and whether the worker is now counted in transit;
/// `None`: still nothing, time to park (the token is still counted, and
/// parking turns it into a parked count).
fn spin(shared: &PoolState) -> Option<bool> {
    shared.notify_quiet(); // (which orders the token before the look)
    for round in 0..SPIN_ROUNDS + YIELD_ROUNDS {
        if shared.queue.has_work_or_closed() {
            return Some(shared.workers.spinner_found_work());
        }
        if round < SPIN_ROUNDS {
            for _ in 0..1u32 << round {
                sync::spin_hint();
            }
        } else {
            thread::yield_now();
        }
    }
    None
}

fn park(shared: &PoolState, me: &Arc<Parker>) -> Next {
    let config = &shared.config;
    shared.idle.push(me, &shared.workers);
    shared.notify_quiet(); // (which orders the announcement before the look)
    // Announced, now look: a task queued before the announcement is seen
    // here; one queued after it finds this worker in the stack.
    if shared.queue.has_work_or_closed() {
        return match shared.idle.withdraw(me, &shared.workers) {
            Leave::Claimed => {
                // The claimer's unpark is on its way: take it, so no stale
                // token cuts a later sleep short.
                me.park(None);
                Next::Work
            }
            _ => Next::Spin,
        };
    }
    loop {
        // At or below `min_threads` a thread would not retire anyway: it
        // sleeps without a timer, so an idle pool makes no wake-ups.
        let seen = shared.workers.load();
        let timeout = (seen.threads() > config.min_threads).then_some(config.keep_alive);
        if me.park(timeout) {
            return Next::Work;
        }
        if !shared.ask_policy(|policy, load| policy.retire(load), shared.workers.load()) {
            // Kept: ask again after another keep_alive — but not in a busy
            // loop when keep_alive is zero.
            if me.park(Some(config.keep_alive.max(RECHECK))) {
                return Next::Work;
            }
            continue;
        }
        match shared.idle.retire(me, &shared.workers, config.min_threads) {
            Leave::Left => {
                shared.counters.add(Event::ThreadRetired, 1);
                shared.threads.update(|| {});
                tracing::debug!(
                    target: "perfect21_thread_pool",
                    threads = shared.workers.load().threads(),
                    keep_alive = ?config.keep_alive,
                    "thread retired: idle for keep_alive"
                );
                return Next::Retire;
            }
            Leave::Claimed => {
                me.park(None);
                return Next::Work;
            }
            Leave::Stayed => continue,
        }
    }
}
