//! perfect21-thread-pool beside `threadpool`, rayon's `ThreadPool::spawn`,
//! tokio's `spawn_blocking` and `blocking::unblock`, on the issue's
//! workloads.
//!
//! Groups:
//! * `thread_pool/noop_100k` — 100 000 no-op tasks, fire-and-forget, from
//!   one submitting thread; the time until the last has run (each task
//!   counts down a latch the submitter waits on). Every pool has 4 threads
//!   (`blocking` sizes itself).
//! * `thread_pool/spawn_join_100k` — 100 000 tasks that return a value,
//!   spawned, then every handle joined (or awaited) in order. Pools with
//!   handles only: ours (`join`, and `.await` from a tokio current-thread
//!   runtime), tokio's `spawn_blocking`, `blocking::unblock`.
//! * `thread_pool/burst_64x1ms` — 64 tasks that each block 1 ms, submitted
//!   at once to a pool with 2 threads running and room for 16; the time
//!   until all have finished. The ideal, 16 threads from the first
//!   microsecond, is 4 ms. Every iteration gets a fresh pool (built and
//!   dropped outside the timing) so growth is measured, not a pool left
//!   warm by the previous iteration — except `blocking`'s, which is
//!   global. Every pool gets the same settle step before the timing: each
//!   thread it starts at build time (2 for ours, 16 for the fixed pools,
//!   none for tokio's blocking pool) has run a task, so no row's burst
//!   races its own threads' start-up.
//!
//! Idle CPU and the shrink back to `min_threads` are measured by the
//! `thread_pool_measure` program (`cargo xtask bench thread_pool` runs both).
#![allow(missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::Thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use perfect21_thread_pool::{BacklogDoubling, SubmitError, ThreadPool, ThreadPoolBuilder};

const TASKS: usize = 100_000;
const THREADS: usize = 4;
const BURST: usize = 64;
const BURST_TASK: Duration = Duration::from_millis(1);

/// Counts tasks down; the last one wakes the waiting thread.
struct Latch {
    left: AtomicUsize,
    waiter: Thread,
}

impl Latch {
    /// A latch for `n` tasks, waited on by the calling thread. Leaked: the
    /// tasks borrow it for `'static` without an `Arc` clone each.
    fn new(n: usize) -> &'static Latch {
        Box::leak(Box::new(Latch {
            left: AtomicUsize::new(n),
            waiter: std::thread::current(),
        }))
    }

    fn reset(&self, n: usize) {
        self.left.store(n, Ordering::SeqCst);
    }

    #[inline]
    fn count_down(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.waiter.unpark();
        }
    }

    fn wait(&self) {
        while self.left.load(Ordering::Acquire) != 0 {
            std::thread::park();
        }
    }
}

fn ours(min: usize, max: usize) -> ThreadPool {
    ThreadPool::builder()
        .min_threads(min)
        .max_threads(max)
        .build()
        .expect("valid pool")
}

fn tokio_runtime(max_blocking: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(max_blocking)
        .build()
        .expect("tokio runtime")
}

fn rayon_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool")
}

/// Submits `TASKS` latch count-downs through `submit` and waits for the
/// last to run.
fn drain(latch: &'static Latch, submit: impl Fn(&'static Latch)) {
    latch.reset(TASKS);
    for _ in 0..TASKS {
        submit(latch);
    }
    latch.wait();
}

fn noop(c: &mut Criterion) {
    let mut group = c.benchmark_group("thread_pool/noop_100k");
    group.throughput(Throughput::Elements(TASKS as u64));
    group.sample_size(20);
    let latch = Latch::new(0);

    let pool = ours(THREADS, THREADS);
    group.bench_function("perfect21", |b| {
        b.iter(|| drain(latch, |l| accepted(pool.execute(move || l.count_down()))))
    });
    drop(pool);

    let pool = threadpool::ThreadPool::new(THREADS);
    group.bench_function("threadpool", |b| {
        b.iter(|| drain(latch, |l| pool.execute(move || l.count_down())))
    });
    drop(pool);

    let pool = rayon_pool(THREADS);
    group.bench_function("rayon", |b| {
        b.iter(|| drain(latch, |l| pool.spawn(move || l.count_down())))
    });
    drop(pool);

    let runtime = tokio_runtime(THREADS);
    group.bench_function("tokio_spawn_blocking", |b| {
        b.iter(|| {
            drain(latch, |l| {
                drop(runtime.spawn_blocking(move || l.count_down()))
            })
        })
    });
    drop(runtime);

    group.bench_function("blocking", |b| {
        b.iter(|| {
            drain(latch, |l| {
                blocking::unblock(move || l.count_down()).detach()
            })
        })
    });
    group.finish();
}

fn spawn_join(c: &mut Criterion) {
    let mut group = c.benchmark_group("thread_pool/spawn_join_100k");
    group.throughput(Throughput::Elements(TASKS as u64));
    group.sample_size(20);
    let expected = (TASKS * (TASKS - 1) / 2) as u64;

    let pool = ours(THREADS, THREADS);
    group.bench_function("perfect21", |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..TASKS as u64)
                .map(|i| pool.spawn(move || i).expect("accepted"))
                .collect();
            let sum: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
            assert_eq!(sum, expected);
        })
    });
    let runtime = tokio_runtime(THREADS);
    group.bench_function("perfect21_await", |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..TASKS as u64)
                .map(|i| pool.spawn(move || i).expect("accepted"))
                .collect();
            let sum: u64 = runtime.block_on(async {
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.unwrap_or(0);
                }
                sum
            });
            assert_eq!(sum, expected);
        })
    });
    drop(pool);

    group.bench_function("tokio_spawn_blocking", |b| {
        b.iter(|| {
            let sum: u64 = runtime.block_on(async {
                let handles: Vec<_> = (0..TASKS as u64)
                    .map(|i| tokio::task::spawn_blocking(move || i))
                    .collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.unwrap_or(0);
                }
                sum
            });
            assert_eq!(sum, expected);
        })
    });

    group.bench_function("blocking", |b| {
        b.iter(|| {
            let sum: u64 = runtime.block_on(async {
                let tasks: Vec<_> = (0..TASKS as u64)
                    .map(|i| blocking::unblock(move || i))
                    .collect();
                let mut sum = 0;
                for task in tasks {
                    sum += task.await;
                }
                sum
            });
            assert_eq!(sum, expected);
        })
    });
    group.finish();
}

/// Times one burst on a pool built by `build` (outside the timing), which
/// `submit`s each task; the pool is dropped outside the timing too.
fn burst<P>(
    iters: u64,
    build: impl Fn() -> P,
    settle: impl Fn(&P),
    submit: impl Fn(&P, &'static Latch),
) -> Duration {
    let latch = Latch::new(0);
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let pool = build();
        settle(&pool);
        latch.reset(BURST);
        let started = Instant::now();
        for _ in 0..BURST {
            submit(&pool, latch);
        }
        latch.wait();
        total += started.elapsed();
        drop(pool);
    }
    total
}

/// The settle step every burst row gets: waits until `threads` threads of
/// the pool are running, with `threads` tasks that each wait for all the
/// others (so each ran on its own thread) and then return.
fn settle_threads(threads: usize, spawn: impl Fn(Box<dyn FnOnce() + Send>)) {
    let all = Arc::new(Barrier::new(threads + 1));
    for _ in 0..threads {
        let all = Arc::clone(&all);
        spawn(Box::new(move || {
            all.wait();
        }));
    }
    all.wait();
}

fn accepted<F>(submitted: Result<(), SubmitError<F>>) {
    assert!(
        submitted.is_ok(),
        "an open pool with an unbounded queue accepts"
    );
}

fn sleepy(latch: &'static Latch) -> impl FnOnce() + Send + 'static {
    move || {
        std::thread::sleep(BURST_TASK);
        latch.count_down();
    }
}

fn bursts(c: &mut Criterion) {
    let mut group = c.benchmark_group("thread_pool/burst_64x1ms");
    group.throughput(Throughput::Elements(BURST as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));

    type Row = (&'static str, fn() -> ThreadPoolBuilder);
    let rows: [Row; 2] = [
        ("perfect21", ThreadPool::builder),
        ("perfect21_backlog_doubling", || {
            ThreadPool::builder().scaling(BacklogDoubling::default())
        }),
    ];
    for (name, builder) in rows {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                burst(
                    iters,
                    || {
                        builder()
                            .min_threads(2)
                            .max_threads(16)
                            .build()
                            .expect("valid pool")
                    },
                    |pool| settle_threads(2, |task| accepted(pool.execute(task))),
                    |pool, latch| accepted(pool.execute(sleepy(latch))),
                )
            })
        });
    }
    group.bench_function("tokio_spawn_blocking", |b| {
        b.iter_custom(|iters| {
            burst(
                iters,
                || tokio_runtime(16),
                // Its blocking pool starts no thread before the burst.
                |runtime| {
                    settle_threads(0, |task| drop(runtime.spawn_blocking(task)));
                },
                |runtime, latch| drop(runtime.spawn_blocking(sleepy(latch))),
            )
        })
    });
    group.bench_function("blocking", |b| {
        b.iter_custom(|iters| {
            burst(
                iters,
                || (),
                // A global pool: whatever earlier iterations left running.
                |_| settle_threads(0, |task| blocking::unblock(task).detach()),
                |_, latch| blocking::unblock(sleepy(latch)).detach(),
            )
        })
    });
    // Fixed pools with all 16 threads running before the burst: the ideal.
    group.bench_function("threadpool_fixed16", |b| {
        b.iter_custom(|iters| {
            burst(
                iters,
                || threadpool::ThreadPool::new(16),
                |pool| settle_threads(16, |task| pool.execute(task)),
                |pool, latch| pool.execute(sleepy(latch)),
            )
        })
    });
    group.bench_function("rayon_fixed16", |b| {
        b.iter_custom(|iters| {
            burst(
                iters,
                || rayon_pool(16),
                |pool| settle_threads(16, |task| pool.spawn(task)),
                |pool, latch| pool.spawn(sleepy(latch)),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, noop, spawn_join, bursts);
criterion_main!(benches);
