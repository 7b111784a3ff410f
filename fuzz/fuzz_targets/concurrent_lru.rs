//! `ConcurrentLru` from two threads at once. Each thread owns half of the
//! keys (so it knows the last value it wrote under each) and runs its own
//! operation sequence — reads, writes, removals, single-flight loads that
//! succeed, fail or panic, `retain`, `purge_expired` — while the other runs
//! its own. Whatever the interleaving:
//! * a read returns nothing or the value this thread last wrote;
//! * the bounds hold after every call;
//! * at the end, every key's history adds up: each fresh insert is still
//!   held, was removed by its thread, or was heard by the listener once;
//! * the counters are exact: `hits + misses` is every lookup made,
//!   `inserts == len + removals + evictions()`, one load per loader run.
#![no_main]

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use perfect21_lru::{ConcurrentLru, EvictionCause, ManualClock};

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Load {
    Value,
    Error,
    Panic,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Op {
    Get(u8),
    Peek(u8),
    Insert(u8, u8),
    InsertTtl(u8, u8, u8),
    Remove(u8),
    Load(u8, u8, Load),
    Retain(u8),
    PurgeExpired,
    Advance(u8),
}

#[derive(Debug, Arbitrary)]
struct Input {
    max_entries: u8,
    max_weight: u8,
    shards: u8,
    ops: [Vec<Op>; 2],
}

/// What one thread saw: lookups it made, loader runs, removals per key, and
/// the last value it wrote per key (`None` once it knows the key is gone).
#[derive(Default)]
struct Seen {
    lookups: u64,
    loads: u64,
    load_failures: u64,
    removals: HashMap<u8, u64>,
    last: HashMap<u8, u8>,
}

fn weight_of(value: u8) -> u64 {
    u64::from(value % 8) + 1
}

/// Thread `t`'s key for `k`: the low bit is the thread.
fn key(t: u8, k: u8) -> u8 {
    (k << 1) | t
}

type Heard = Arc<Mutex<Vec<(u8, u8, EvictionCause)>>>;

fn run(
    cache: &ConcurrentLru<u8, u8, perfect21_lru::DefaultHashBuilder, fn(&u8, &u8) -> u64>,
    clock: &ManualClock,
    t: u8,
    ops: &[Op],
    max: (usize, u64, u64),
) -> Seen {
    let mut seen = Seen::default();
    let check = |seen: &Seen, k: u8, got: Option<u8>| {
        if let Some(v) = got {
            assert_eq!(
                seen.last.get(&k),
                Some(&v),
                "key {k} holds a value its thread never wrote last"
            );
        }
    };
    for op in ops {
        match *op {
            Op::Get(k) => {
                let k = key(t, k);
                seen.lookups += 1;
                check(&seen, k, cache.get(&k));
            }
            Op::Peek(k) => {
                let k = key(t, k);
                check(&seen, k, cache.peek(&k));
            }
            Op::Insert(k, v) | Op::InsertTtl(k, v, _) => {
                let k = key(t, k);
                let result = match *op {
                    Op::InsertTtl(_, _, ttl) => {
                        cache.insert_with_ttl(k, v, Duration::from_micros(u64::from(ttl)))
                    }
                    _ => cache.insert(k, v),
                };
                match result {
                    Ok(old) => {
                        check(&seen, k, old);
                        seen.last.insert(k, v);
                    }
                    Err(rejected) => {
                        // Heavier than its shard's share; nothing changed.
                        assert!(
                            rejected.weight > max.1 / max.2,
                            "rejected {}",
                            rejected.weight
                        );
                    }
                }
            }
            Op::Remove(k) => {
                let k = key(t, k);
                let got = cache.remove(&k);
                check(&seen, k, got);
                if got.is_some() {
                    *seen.removals.entry(k).or_default() += 1;
                }
            }
            Op::Load(k, v, how) => {
                let k = key(t, k);
                seen.lookups += 1;
                let ran = std::cell::Cell::new(false);
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    cache.try_get_or_insert_with(k, || {
                        ran.set(true);
                        match how {
                            Load::Value => Ok(v),
                            Load::Error => Err(()),
                            Load::Panic => std::panic::panic_any(Expected),
                        }
                    })
                }));
                if ran.get() {
                    seen.loads += 1;
                    match how {
                        Load::Value => {
                            assert_eq!(outcome.ok(), Some(Ok(v)));
                            // Cached unless too heavy for its shard.
                            seen.last.insert(k, v);
                        }
                        _ => seen.load_failures += 1,
                    }
                } else {
                    // Served from the cache: the value this thread wrote.
                    let got = outcome
                        .expect("no loader ran, nothing panicked")
                        .expect("no loader ran");
                    check(&seen, k, Some(got));
                }
            }
            Op::Retain(mask) => cache.retain(|k, _| k & 1 != t || mask & (1 << (k % 8)) != 0),
            Op::PurgeExpired => {
                cache.purge_expired();
            }
            Op::Advance(by) => clock.advance(Duration::from_micros(u64::from(by))),
        }
        assert!(cache.len() <= max.0, "len {} over {}", cache.len(), max.0);
        assert!(
            cache.weight() <= max.1,
            "weight {} over {}",
            cache.weight(),
            max.1
        );
    }
    seen
}

/// The payload of the loader panics this target makes on purpose.
struct Expected;

/// Only the loader panics this target makes on purpose unwind.
fn is_expected(info: &std::panic::PanicHookInfo<'_>) -> bool {
    info.payload().downcast_ref::<Expected>().is_some()
}

fuzz_target!(|input: Input| {
    if input.ops.iter().map(Vec::len).sum::<usize>() > 400 {
        return;
    }
    perfect21_fuzz::let_expected_panics_unwind(is_expected);
    let shards = 1usize << (input.shards % 3);
    let max_entries = usize::from(input.max_entries % 64).max(shards);
    let max_weight = u64::from(input.max_weight).max(shards as u64);
    let clock = ManualClock::new();
    let heard: Heard = Arc::default();
    let sink = Arc::clone(&heard);
    let listened = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&listened);
    let cache = ConcurrentLru::builder()
        .max_entries(max_entries)
        .max_weight(max_weight)
        .shards(shards)
        .clock(clock.clone())
        .weigher((|_k: &u8, v: &u8| weight_of(*v)) as fn(&u8, &u8) -> u64)
        .eviction_listener(move |k, v, cause| {
            count.fetch_add(1, Ordering::Relaxed);
            sink.lock().unwrap().push((k, v, cause));
        })
        .build()
        .expect("valid options");
    let max = (
        cache.max_entries().unwrap_or(usize::MAX),
        cache.max_weight().unwrap_or(u64::MAX),
        cache.shards() as u64,
    );
    let start = Barrier::new(2);
    let seen: Vec<Seen> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2u8)
            .map(|t| {
                let (cache, clock, start, ops) =
                    (&cache, &clock, &start, &input.ops[usize::from(t)]);
                scope.spawn(move || {
                    start.wait();
                    run(cache, clock, t, ops, max)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no unexpected panic"))
            .collect()
    });

    let stats = cache.stats();
    assert_eq!(stats.waiting, 0);
    assert_eq!(
        stats.hits + stats.misses,
        seen.iter().map(|s| s.lookups).sum::<u64>()
    );
    assert_eq!(stats.loads, seen.iter().map(|s| s.loads).sum::<u64>());
    assert_eq!(
        stats.load_failures,
        seen.iter().map(|s| s.load_failures).sum::<u64>()
    );
    let heard = heard.lock().unwrap();
    assert_eq!(listened.load(Ordering::Relaxed), heard.len() as u64);
    assert_eq!(
        stats.evictions(),
        heard.len() as u64,
        "every eviction heard once"
    );
    let removals: u64 = seen.iter().flat_map(|s| s.removals.values()).sum();
    assert_eq!(stats.removals, removals);
    assert_eq!(
        stats.inserts,
        stats.len + stats.removals + stats.evictions()
    );
    assert_eq!(stats.len, cache.len() as u64);
    assert_eq!(stats.weight, cache.weight());
    // What is held is the last value its thread wrote.
    for (t, seen) in seen.iter().enumerate() {
        for k in (0..=255u8).filter(|k| k & 1 == t as u8) {
            if let Some(v) = cache.peek(&k) {
                assert_eq!(seen.last.get(&k), Some(&v), "key {k}");
            }
        }
    }
});
