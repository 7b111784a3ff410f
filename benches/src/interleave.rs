//! Few-percent overhead targets on a shared, noisy machine: run two sides
//! in alternating time slices (ABBA order) so a burst of load from another
//! process lands on both, and compare calls per second.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Calls completed and seconds taken by `tasks` tokio tasks, each looping
/// `op(task, call)` (`call` counts that task's calls from 0) for `span`.
pub async fn run_for<F, Fut>(span: Duration, tasks: usize, op: F) -> (u64, f64)
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let (stop, done, op) = (stop.clone(), done.clone(), op.clone());
            tokio::spawn(async move {
                let mut call = 0;
                while !stop.load(Ordering::Relaxed) {
                    op(task, call).await;
                    call += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(span).await;
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle.await.expect("a bench task panicked");
    }
    (
        done.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    )
}

/// Calls per second of `ours` and of `theirs` (as [`run_for`] runs them
/// with `tasks` tasks), after one warm-up slice each, over `slices` slices
/// of `slice` each, alternating A B B A A B B A …
pub async fn interleaved<A, FA, B, FB>(
    ours: A,
    theirs: B,
    tasks: usize,
    slice: Duration,
    slices: usize,
) -> (f64, f64)
where
    A: Fn(usize, u64) -> FA + Clone + Send + 'static,
    FA: Future<Output = ()> + Send,
    B: Fn(usize, u64) -> FB + Clone + Send + 'static,
    FB: Future<Output = ()> + Send,
{
    run_for(slice, tasks, ours.clone()).await;
    run_for(slice, tasks, theirs.clone()).await;
    let (mut a, mut b) = ((0u64, 0f64), (0u64, 0f64));
    for turn in 0..2 * slices {
        if matches!(turn % 4, 0 | 3) {
            let (n, s) = run_for(slice, tasks, ours.clone()).await;
            a = (a.0 + n, a.1 + s);
        } else {
            let (n, s) = run_for(slice, tasks, theirs.clone()).await;
            b = (b.0 + n, b.1 + s);
        }
    }
    (a.0 as f64 / a.1, b.0 as f64 / b.1)
}

/// A pseudo-random key in `1..=keys` for call `call` of task `task`
/// (SplitMix64: the same sequence in every run).
pub fn key(task: usize, call: u64, keys: u64) -> u64 {
    let mut z = (task as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(call.wrapping_add(1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % keys + 1
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_stay_in_range_and_spread() {
        let seen: std::collections::HashSet<u64> =
            (0..1000).map(|call| super::key(3, call, 100)).collect();
        assert!(seen.iter().all(|k| (1..=100).contains(k)));
        assert!(seen.len() > 90, "{} distinct keys", seen.len());
    }
}
