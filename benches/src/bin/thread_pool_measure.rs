//! What criterion does not measure for perfect21-thread-pool, written to
//! `target/perfect21-results/thread_pool.json` for `cargo xtask bench`:
//!
//! * **Idle CPU**: a pool of 8 threads fed one tiny task every 10 ms for
//!   5 s; the process's CPU time over those 5 s (summed over its threads
//!   from `/proc/self/task/*/schedstat`, in nanoseconds), as a share of one
//!   core. Beside rayon's `spawn`, `threadpool` and tokio's
//!   `spawn_blocking` (its blocking pool warmed to 8 threads first).
//! * **Shrink**: a pool with `min_threads` 2, `max_threads` 16 and a
//!   `keep_alive` of 1 s grows to 16 threads on a burst of 64 × 1 ms
//!   tasks; the time from the burst's last task to the pool being back at 2
//!   threads (five rounds; the slowest is the figure). Then, for it, tokio's
//!   blocking pool (same limits and keep-alive) and `blocking`: the threads
//!   left 2 s after the same burst, and after 3 s of one tiny task every
//!   10 ms following it (a light load that keeps a FIFO-woken pool alive).
//!
//! Run: `cargo run --release -p perfect21-benches --bin thread_pool_measure`.
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use perfect21_benches::cpu::process_cpu;
use perfect21_benches::results::{self, Record};
use perfect21_thread_pool::ThreadPool;

const BENCH: &str = "thread_pool";
const IDLE_THREADS: usize = 8;
const IDLE_PERIOD: Duration = Duration::from_millis(10);
const IDLE_SPAN: Duration = Duration::from_secs(5);
const KEEP_ALIVE: Duration = Duration::from_secs(1);
const BURST: usize = 64;

/// Threads of this process whose name starts with `prefix`.
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

/// Feeds `submit` one tiny task every 10 ms for 5 s; returns the CPU the
/// process used meanwhile, as a share of one core.
fn idle_cpu(submit: impl Fn(Box<dyn FnOnce() + Send>)) -> f64 {
    let ran = Arc::new(AtomicUsize::new(0));
    // Let the pool settle into its idle state first.
    std::thread::sleep(Duration::from_millis(200));
    let cpu_before = process_cpu();
    let started = Instant::now();
    let rounds = (IDLE_SPAN.as_millis() / IDLE_PERIOD.as_millis()) as u32;
    for round in 0..rounds {
        let ran = Arc::clone(&ran);
        submit(Box::new(move || {
            ran.fetch_add(1, SeqCst);
        }));
        let next = started + IDLE_PERIOD * (round + 1);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let wall = started.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_before);
    assert_eq!(ran.load(SeqCst), rounds as usize, "every tiny task ran");
    100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
}

/// Runs `BURST` 1 ms tasks through `submit` and returns when all are done.
fn burst(submit: &dyn Fn(Box<dyn FnOnce() + Send>)) {
    let done = Arc::new((std::sync::Mutex::new(0usize), std::sync::Condvar::new()));
    for _ in 0..BURST {
        let done = Arc::clone(&done);
        submit(Box::new(move || {
            std::thread::sleep(Duration::from_millis(1));
            let (count, all) = &*done;
            *count.lock().unwrap() += 1;
            all.notify_all();
        }));
    }
    let (count, all) = &*done;
    let mut count = count.lock().unwrap();
    while *count < BURST {
        count = all.wait(count).unwrap();
    }
}

/// Warms a pool to `n` threads at once: `n` tasks that wait for each
/// other.
fn warm(n: usize, submit: impl Fn(Box<dyn FnOnce() + Send>)) {
    let barrier = Arc::new(std::sync::Barrier::new(n + 1));
    for _ in 0..n {
        let barrier = Arc::clone(&barrier);
        submit(Box::new(move || {
            barrier.wait();
        }));
    }
    barrier.wait();
}

/// Adds one measured value (and shows it).
fn record(records: &mut Vec<Record>, case: &str, metric: &str, value: f64, unit: &str) {
    eprintln!("{case} — {metric}: {value:.3} {unit}");
    records.push(Record::new(BENCH, case, metric, value, unit));
}

fn main() {
    let mut records = Vec::new();
    let idle = |peer: &str| {
        format!(
            "idle: {IDLE_THREADS} threads, 1 tiny task / {} ms, {} s · {peer}",
            IDLE_PERIOD.as_millis(),
            IDLE_SPAN.as_secs()
        )
    };
    let shrink = |peer: &str| {
        format!(
            "shrink: burst of {BURST} × 1 ms, min 2, max 16, keep_alive {} s · {peer}",
            KEEP_ALIVE.as_secs()
        )
    };

    // ---- idle CPU ----
    {
        let pool = ThreadPool::builder()
            .min_threads(IDLE_THREADS)
            .max_threads(IDLE_THREADS)
            .build()
            .expect("pool");
        let cpu = idle_cpu(|task| pool.execute(task).expect("accepted"));
        record(&mut records, &idle("perfect21"), "cpu", cpu, "% of a core");
    }
    {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(IDLE_THREADS)
            .build()
            .expect("rayon");
        let cpu = idle_cpu(|task| pool.spawn(task));
        record(&mut records, &idle("rayon"), "cpu", cpu, "% of a core");
    }
    {
        let pool = threadpool::ThreadPool::new(IDLE_THREADS);
        let cpu = idle_cpu(|task| pool.execute(task));
        record(&mut records, &idle("threadpool"), "cpu", cpu, "% of a core");
    }
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(IDLE_THREADS)
            .build()
            .expect("tokio");
        warm(IDLE_THREADS, |task| drop(runtime.spawn_blocking(task)));
        let cpu = idle_cpu(|task| drop(runtime.spawn_blocking(task)));
        record(
            &mut records,
            &idle("tokio_spawn_blocking"),
            "cpu",
            cpu,
            "% of a core",
        );
    }

    // ---- shrink after a burst ----
    {
        let mut fallbacks = Vec::new();
        let mut peak = 0;
        for _ in 0..5 {
            let pool = ThreadPool::builder()
                .min_threads(2)
                .max_threads(16)
                .keep_alive(KEEP_ALIVE)
                .build()
                .expect("pool");
            burst(&|task| pool.execute(task).expect("accepted"));
            let ended = Instant::now();
            peak = peak.max(pool.stats().peak_threads);
            while pool.stats().threads > 2 {
                assert!(ended.elapsed() < KEEP_ALIVE * 10, "the pool never shrank");
                std::thread::sleep(Duration::from_micros(200));
            }
            fallbacks.push(ended.elapsed());
        }
        fallbacks.sort();
        let slowest = fallbacks[fallbacks.len() - 1];
        let median = fallbacks[fallbacks.len() / 2];
        let ours = shrink("perfect21");
        record(&mut records, &ours, "peak threads", peak as f64, "threads");
        record(
            &mut records,
            &ours,
            "back at min after (slowest of 5)",
            slowest.as_secs_f64() * 1e3,
            "ms",
        );
        record(
            &mut records,
            &ours,
            "back at min after (median of 5)",
            median.as_secs_f64() * 1e3,
            "ms",
        );
        record(
            &mut records,
            &ours,
            "slowest ÷ keep_alive",
            slowest.as_secs_f64() / KEEP_ALIVE.as_secs_f64(),
            "×",
        );
    }

    // ---- threads kept after a burst, idle or under a trickle ----
    let ours = || {
        ThreadPool::builder()
            .min_threads(2)
            .max_threads(16)
            .keep_alive(KEEP_ALIVE)
            .build()
            .expect("pool")
    };
    let tokio = || {
        tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(16)
            .thread_keep_alive(KEEP_ALIVE)
            .thread_name("tokio-blk")
            .build()
            .expect("tokio")
    };
    for after in [After::Idle, After::Trickle] {
        let pool = ours();
        let threads = after_burst(
            after,
            || pool.stats().threads,
            |task| pool.execute(task).expect("accepted"),
        );
        record_after(&mut records, &shrink("perfect21"), after, threads);

        let runtime = tokio();
        let threads = after_burst(
            after,
            || threads_named("tokio-blk"),
            |task| drop(runtime.spawn_blocking(task)),
        );
        record_after(
            &mut records,
            &shrink("tokio_spawn_blocking"),
            after,
            threads,
        );

        let threads = after_burst(
            after,
            || threads_named("blocking-"),
            |task| blocking::unblock(task).detach(),
        );
        record_after(
            &mut records,
            &shrink("blocking (its own limits)"),
            after,
            threads,
        );
    }

    let path = results::write(BENCH, &records).expect("writing the results");
    eprintln!("wrote {}", path.display());
}

/// What follows the burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// No task for 2 s.
    Idle,
    /// One tiny task every 10 ms for 3 s.
    Trickle,
}

/// Runs the burst through `submit`, then `after`; returns the threads
/// `count` saw at the end of the burst and at the end.
fn after_burst(
    after: After,
    count: impl Fn() -> usize,
    submit: impl Fn(Box<dyn FnOnce() + Send>),
) -> (usize, usize) {
    burst(&submit);
    let peak = count();
    let started = Instant::now();
    match after {
        After::Idle => std::thread::sleep(Duration::from_secs(2)),
        After::Trickle => {
            for round in 1..=300 {
                submit(Box::new(|| ()));
                let next = started + IDLE_PERIOD * round;
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        }
    }
    (peak, count())
}

fn record_after(records: &mut Vec<Record>, case: &str, after: After, (peak, left): (usize, usize)) {
    if after == After::Idle {
        record(
            records,
            case,
            "threads at the end of the burst",
            peak as f64,
            "threads",
        );
    }
    let metric = match after {
        After::Idle => "threads after 2 s idle",
        After::Trickle => "threads after 3 s of 1 tiny task / 10 ms",
    };
    record(records, case, metric, left as f64, "threads");
}
