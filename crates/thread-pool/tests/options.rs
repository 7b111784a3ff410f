//! Builder options: each refused out of range with the field named, each
//! taking effect when valid.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use perfect21_thread_pool::{
    DEFAULT_KEEP_ALIVE, Error, Fixed, MAX_THREADS, ThreadPool, ThreadPoolBuilder,
};

fn refused(builder: ThreadPoolBuilder) -> (&'static str, String, String) {
    match builder.build() {
        Err(Error::InvalidConfig {
            field,
            value,
            allowed,
        }) => (field, value, allowed),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn invalid_options_are_refused_naming_the_field_and_range() {
    let (field, value, allowed) = refused(ThreadPool::builder().max_threads(0));
    assert_eq!((field, value.as_str()), ("max_threads", "0"));
    assert_eq!(allowed, format!("1..={MAX_THREADS}"));

    let (field, _, _) = refused(ThreadPool::builder().max_threads(MAX_THREADS + 1));
    assert_eq!(field, "max_threads");

    let (field, value, allowed) = refused(ThreadPool::builder().min_threads(5).max_threads(4));
    assert_eq!((field, value.as_str()), ("min_threads", "5"));
    assert_eq!(allowed, "0..=max_threads (4)");

    let (field, value, _) = refused(ThreadPool::builder().queue_capacity(0));
    assert_eq!((field, value.as_str()), ("queue_capacity", "0"));

    let (field, _, _) = refused(ThreadPool::builder().thread_name("bad\0name"));
    assert_eq!(field, "thread_name");

    let (field, _, _) = refused(ThreadPool::builder().stack_size(0));
    assert_eq!(field, "stack_size");

    let message = ThreadPool::builder()
        .min_threads(5)
        .max_threads(4)
        .build()
        .unwrap_err()
        .to_string();
    assert!(message.contains("min_threads") && message.contains("0..=max_threads (4)"));
}

#[test]
fn defaults_start_no_thread_and_allow_one_per_cpu() {
    let pool = ThreadPool::builder().build().unwrap();
    let cpus = std::thread::available_parallelism().unwrap().get();
    let stats = pool.stats();
    assert_eq!((stats.min_threads, stats.max_threads), (0, cpus));
    assert_eq!((stats.threads, stats.threads_started), (0, 0));
    assert_eq!(pool.spawn(|| 6 * 7).unwrap().join(), Ok(42));
    assert_eq!(pool.stats().threads_started, 1);
    assert_eq!(DEFAULT_KEEP_ALIVE.as_secs(), 10);
}

#[test]
fn a_max_below_min_defaults_up_to_min() {
    // No max given: the CPU count, or min_threads when that is larger.
    let pool = ThreadPool::builder().min_threads(64).build().unwrap();
    assert_eq!(
        pool.stats().max_threads,
        64.max(std::thread::available_parallelism().unwrap().get())
    );
    assert_eq!(pool.stats().threads, 64);
}

#[test]
fn build_starts_min_threads_and_fixed_starts_max() {
    let pool = ThreadPool::builder()
        .min_threads(3)
        .max_threads(5)
        .build()
        .unwrap();
    let stats = pool.stats();
    assert_eq!(
        (stats.threads, stats.threads_started, stats.peak_threads),
        (3, 3, 3)
    );
    common::eventually(&pool, "the initial threads to go idle", |s| s.idle == 3);

    let fixed = ThreadPool::builder()
        .max_threads(4)
        .scaling(Fixed)
        .build()
        .unwrap();
    assert_eq!(fixed.stats().threads, 4);
}

#[test]
fn threads_carry_the_name_prefix() {
    let pool = ThreadPool::builder()
        .thread_name("hasher")
        .max_threads(2)
        .build()
        .unwrap();
    let name = pool
        .spawn(|| std::thread::current().name().map(str::to_string))
        .unwrap()
        .join()
        .unwrap()
        .unwrap();
    assert!(name.starts_with("hasher-"), "{name}");
}

#[test]
fn stack_size_is_given_to_the_threads() {
    // 8 MiB of locals would overflow Rust's default 2 MiB thread stack
    // (and abort this test binary).
    let pool = ThreadPool::builder()
        .stack_size(32 << 20)
        .max_threads(1)
        .build()
        .unwrap();
    let sum = pool
        .spawn(|| {
            let big = std::hint::black_box([1u8; 8 << 20]);
            big.iter().map(|&b| u64::from(b)).sum::<u64>()
        })
        .unwrap()
        .join();
    assert_eq!(sum, Ok(8 << 20));
}

#[test]
fn start_and_stop_hooks_run_on_every_pool_thread() {
    let started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let on_pool_thread = Arc::new(AtomicUsize::new(0));
    let pool = {
        let (started, stopped, on_pool_thread) = (
            Arc::clone(&started),
            Arc::clone(&stopped),
            Arc::clone(&on_pool_thread),
        );
        ThreadPool::builder()
            .min_threads(2)
            .max_threads(4)
            .thread_name("hooked")
            .on_thread_start(move || {
                started.fetch_add(1, SeqCst);
                if std::thread::current()
                    .name()
                    .unwrap_or("")
                    .starts_with("hooked-")
                {
                    on_pool_thread.fetch_add(1, SeqCst);
                }
            })
            .on_thread_stop(move || {
                stopped.fetch_add(1, SeqCst);
            })
            .build()
            .unwrap()
    };
    let gate = common::occupy(&pool, 4);
    gate.open();
    pool.shutdown();
    let stats = pool.stats();
    assert_eq!(stats.threads_started, 4);
    assert_eq!(started.load(SeqCst), 4);
    assert_eq!(on_pool_thread.load(SeqCst), 4);
    assert_eq!(stopped.load(SeqCst), 4);
}

#[test]
fn panicking_hooks_leave_the_threads_working() {
    let pool = ThreadPool::builder()
        .max_threads(2)
        .on_thread_start(|| panic!("start hook"))
        .on_thread_stop(|| panic!("stop hook"))
        .build()
        .unwrap();
    assert_eq!(pool.spawn(|| 1).unwrap().join(), Ok(1));
    pool.shutdown();
    assert_eq!(pool.stats().completed, 1);
}

#[test]
fn debug_output_shows_configuration_and_stats() {
    let builder = ThreadPool::builder().max_threads(2).thread_name("dbg");
    assert!(format!("{builder:?}").contains("max_threads: 2"));
    let pool = builder.build().unwrap();
    let text = format!("{pool:?}");
    assert!(
        text.contains("thread_name: \"dbg\"") && text.contains("stats"),
        "{text}"
    );
}

#[cfg(feature = "serde")]
#[test]
fn stats_serialize_with_serde() {
    let pool = ThreadPool::builder().max_threads(1).build().unwrap();
    pool.spawn(|| ()).unwrap().join().unwrap();
    pool.wait_idle();
    let json = serde_json::to_value(pool.stats()).unwrap();
    assert_eq!(json["completed"], 1);
    assert_eq!(json["max_threads"], 1);
}
