//! Many threads at once: exact totals afterwards, `max_idle` respected
//! whichever thread returns, nothing lost when threads exit.

use std::sync::mpsc::sync_channel;

use perfect21_object_pool::{ObjectPool, PooledOwned, Reset};

const THREADS: u64 = 8;
const OPS: u64 = 100_000;

#[test]
fn eight_threads_get_and_return_with_exact_totals() {
    let pool = ObjectPool::builder(|| Vec::<u8>::with_capacity(64))
        .reset(Reset::reset)
        .max_idle(16)
        .build()
        .unwrap();
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let pool = &pool;
            scope.spawn(move || {
                for op in 0..OPS {
                    let mut first = pool.get().unwrap();
                    first.push(1);
                    if (op + thread) % 3 == 0 {
                        // Sometimes hold two, so caches miss and overflow.
                        let second = pool.get_owned().unwrap();
                        drop(first);
                        drop(second);
                    }
                }
            });
        }
    });
    // Every thread has exited: their caches were flushed to the shared stack.
    let stats = pool.stats();
    let gets: u64 = (0..THREADS)
        .map(|t| OPS + (0..OPS).filter(|op| (op + t) % 3 == 0).count() as u64)
        .sum();
    assert_eq!(stats.created + stats.reused, gets);
    assert_eq!(stats.returned + stats.discarded(), gets);
    assert_eq!(stats.in_use, 0);
    assert!(stats.idle <= 16);
    assert_eq!(
        stats.created - stats.discarded(),
        stats.idle,
        "every object made is idle or was dropped"
    );
    assert_eq!(pool.idle() as u64, stats.idle);
}

#[test]
fn objects_returned_on_another_thread_respect_max_idle() {
    const MAX_IDLE: usize = 5;
    let pool = ObjectPool::builder(|| Vec::<u8>::with_capacity(64))
        .reset(Reset::reset)
        .max_idle(MAX_IDLE)
        .build()
        .unwrap();
    let (send, receive) = sync_channel::<Vec<PooledOwned<Vec<u8>>>>(2);
    std::thread::scope(|scope| {
        let pool = &pool;
        scope.spawn(move || {
            while let Ok(batch) = receive.recv() {
                drop(batch);
                assert!(pool.idle() <= MAX_IDLE);
            }
        });
        for _ in 0..OPS / 64 {
            let batch: Vec<_> = (0..64).map(|_| pool.get_owned().unwrap()).collect();
            send.send(batch).unwrap();
            assert!(pool.idle() <= MAX_IDLE);
        }
        drop(send);
    });
    let stats = pool.stats();
    let gets = OPS / 64 * 64;
    assert_eq!(stats.created + stats.reused, gets);
    assert_eq!(stats.returned + stats.discarded_over_max_idle, gets);
    assert!(stats.idle <= MAX_IDLE as u64);
    assert!(stats.reused > 0, "objects crossed back to the producer");
    assert_eq!(
        (stats.in_use, stats.created - stats.discarded()),
        (0, stats.idle)
    );
}

#[test]
fn a_thread_that_exits_leaves_its_cached_objects_to_the_pool() {
    let pool = ObjectPool::builder(|| Vec::<u8>::with_capacity(64))
        .max_idle(8)
        .build()
        .unwrap();
    // A joined (not merely scoped) thread has run its thread-local
    // destructors, where the exit hook flushes its cache.
    let worker = {
        let pool = pool.clone();
        std::thread::spawn(move || {
            let held: Vec<_> = (0..4).map(|_| pool.get().unwrap()).collect();
            drop(held); // into this thread's cache
        })
    };
    worker.join().unwrap();
    assert_eq!(
        pool.idle(),
        4,
        "the exited thread's cache moved to the shared stack"
    );
    let held: Vec<_> = (0..4).map(|_| pool.get().unwrap()).collect();
    let stats = pool.stats();
    assert_eq!(
        (stats.created, stats.reused),
        (4, 4),
        "this thread reuses them"
    );
    drop(held);
}

#[test]
fn trim_reaches_other_threads_caches_at_their_next_operation() {
    let pool = ObjectPool::builder(Vec::<u8>::new)
        .max_idle(8)
        .build()
        .unwrap();
    let (to_worker, worker_inbox) = sync_channel::<&str>(0);
    let (to_main, main_inbox) = sync_channel::<()>(0);
    std::thread::scope(|scope| {
        let pool = &pool;
        scope.spawn(move || {
            let held: Vec<_> = (0..3).map(|_| pool.get().unwrap()).collect();
            drop(held); // three objects in this thread's cache
            to_main.send(()).unwrap();
            assert_eq!(worker_inbox.recv().unwrap(), "touch");
            drop(pool.try_get()); // next operation: sees the trim
            to_main.send(()).unwrap();
            assert_eq!(worker_inbox.recv().unwrap(), "exit");
        });
        main_inbox.recv().unwrap();
        assert_eq!(pool.idle(), 3);
        pool.trim(0);
        assert_eq!(
            pool.idle(),
            3,
            "another live thread's cache waits for its next operation"
        );
        to_worker.send("touch").unwrap();
        main_inbox.recv().unwrap();
        assert_eq!(
            pool.idle(),
            0,
            "the worker flushed its cache and applied the trim"
        );
        to_worker.send("exit").unwrap();
    });
    assert_eq!(pool.stats().discarded_trimmed, 3);
}

#[test]
fn a_trim_acts_once_and_never_reaches_objects_returned_after_it() {
    // Regression: each thread re-applied the latest `trim(keep)` to the
    // shared stack at its next slow operation, however late, dropping
    // objects returned long after the call.
    let pool = ObjectPool::builder(Vec::<u8>::new)
        .thread_cache(4)
        .max_idle(32)
        .build()
        .unwrap();
    let (to_worker, worker_inbox) = sync_channel::<&str>(0);
    let (to_main, main_inbox) = sync_channel::<()>(0);
    let pool = &pool;
    // `move`: a failed assert drops the senders, so the worker ends too.
    std::thread::scope(move |scope| {
        scope.spawn(move || {
            drop(pool.get().unwrap()); // one object in this thread's cache
            to_main.send(()).unwrap();
            assert_eq!(worker_inbox.recv().unwrap(), "touch");
            drop(pool.get().unwrap()); // next operation: applies the trim
            to_main.send(()).unwrap();
            assert_eq!(worker_inbox.recv().unwrap(), "exit");
        });
        main_inbox.recv().unwrap();
        pool.trim(0); // idle then: the worker's one object
        // Returned after the trim: out of its reach.
        let held: Vec<_> = (0..8).map(|_| pool.get().unwrap()).collect();
        drop(held);
        assert_eq!(pool.idle(), 9);
        to_worker.send("touch").unwrap();
        main_inbox.recv().unwrap();
        let stats = pool.stats();
        assert_eq!(
            stats.discarded_trimmed, 1,
            "only the object idle at the call was trimmed: {stats:?}"
        );
        assert_eq!(pool.idle(), 8, "every object returned after the trim kept");
        to_worker.send("exit").unwrap();
    });
    assert_eq!(pool.stats().discarded_trimmed, 1);
    assert_eq!(pool.idle(), 8);
}

#[test]
fn many_short_lived_threads_reuse_indices_and_lose_nothing() {
    let pool = ObjectPool::builder(Vec::<u8>::new)
        .max_idle(64)
        .build()
        .unwrap();
    for _ in 0..50 {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    let a = pool.get().unwrap();
                    let b = pool.get().unwrap();
                    drop((a, b));
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
    }
    let stats = pool.stats();
    assert_eq!(stats.created + stats.reused, 50 * 4 * 2);
    assert_eq!(stats.returned, 50 * 4 * 2, "max_idle is never reached");
    assert_eq!(stats.idle, stats.created);
    assert!(
        stats.created <= 8,
        "exited threads' objects were reused: {stats:?}"
    );
}
