//! Every `stats()` snapshot is consistent while tasks run: no task is
//! counted twice across the stages it passes through, and none is counted
//! before it was submitted.

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use perfect21_thread_pool::{Stats, ThreadPool};

const SUBMITTERS: u64 = 2;
const TASKS: u64 = 50_000;

/// The snapshot invariant: every task counted in a stage (finished,
/// cancelled, running, queued) was submitted, and none in two stages.
fn consistent(s: &Stats) -> bool {
    s.finished() + s.cancelled + s.running as u64 + s.queued as u64 <= s.submitted
}

#[test]
fn every_snapshot_taken_while_tasks_run_counts_no_more_than_was_submitted() {
    let pool = ThreadPool::builder()
        .max_threads(2)
        .panic_handler(|_| ())
        .build()
        .unwrap();
    let done = AtomicBool::new(false);
    let start = Barrier::new(SUBMITTERS as usize + 1);
    let (snapshots, bad) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            start.wait();
            let (mut snapshots, mut bad) = (0u64, None);
            while !done.load(SeqCst) {
                let stats = pool.stats();
                snapshots += 1;
                if !consistent(&stats) && bad.is_none() {
                    bad = Some(stats);
                }
            }
            (snapshots, bad)
        });
        let submitters: Vec<_> = (0..SUBMITTERS - 1)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    for i in 0..TASKS {
                        pool.execute(move || assert!(i % 1000 != 0, "task {i}"))
                            .unwrap();
                    }
                })
            })
            .collect();
        start.wait();
        for i in 0..TASKS {
            pool.execute(move || assert!(i % 1000 != 0, "task {i}"))
                .unwrap();
        }
        for submitter in submitters {
            submitter.join().unwrap();
        }
        pool.wait_idle();
        done.store(true, SeqCst);
        watcher.join().unwrap()
    });
    assert!(snapshots > 0);
    assert_eq!(bad, None, "an inconsistent snapshot (of {snapshots})");
    let stats = pool.stats();
    let n = SUBMITTERS * TASKS;
    assert_eq!(stats.submitted, n);
    assert_eq!(stats.panicked, SUBMITTERS * TASKS.div_ceil(1000));
    assert_eq!(stats.finished(), n);
    assert!(consistent(&stats));
}
