//! Hit ratio of each cache on the Zipf workload of `benches/benches/lru.rs`
//! (s = 0.99, 90 % gets / 10 % inserts over ten times the capacity in keys),
//! so that speed can be read beside what it buys. Writes
//! `target/perfect21-results/lru-zipf.json`.
//!
//! `cargo run --release -p perfect21-benches --bin lru_zipf`

use std::num::NonZeroUsize;
use std::sync::Mutex;

use perfect21_benches::lru::zipf::{self, CAPACITY, GET_PERCENT, KEYS, Op, S};
use perfect21_benches::results::{self, Record};
use perfect21_lru::{ConcurrentLru, LruCache};

/// Operations replayed; hits are counted over the second half only, after
/// the cache has filled.
const LEN: usize = 4_000_000;

/// Hits over gets in the measured half, as a percentage.
fn measure(mut step: impl FnMut(Op) -> Option<bool>, ops: &[Op]) -> f64 {
    let (warm, measured) = ops.split_at(ops.len() / 2);
    warm.iter().for_each(|&op| {
        step(op);
    });
    let (mut gets, mut hits) = (0u64, 0u64);
    for &op in measured {
        if let Some(hit) = step(op) {
            gets += 1;
            hits += u64::from(hit);
        }
    }
    100.0 * hits as f64 / gets as f64
}

fn main() {
    let ops = zipf::ops(KEYS, S, GET_PERCENT, LEN, 42);
    let cap = NonZeroUsize::new(CAPACITY).unwrap_or(NonZeroUsize::MIN);
    let mut rows: Vec<(&str, f64)> = Vec::new();

    let mut ours = LruCache::new(cap);
    rows.push((
        "perfect21 (LruCache)",
        measure(
            |op| match op {
                Op::Get(k) => Some(ours.get(&k).is_some()),
                Op::Insert(k) => {
                    let _ = ours.insert(k, k);
                    None
                }
            },
            &ops,
        ),
    ));
    let concurrent = ConcurrentLru::new(cap);
    rows.push((
        "perfect21_concurrent (ConcurrentLru)",
        measure(
            |op| match op {
                Op::Get(k) => Some(concurrent.get(&k).is_some()),
                Op::Insert(k) => {
                    let _ = concurrent.insert(k, k);
                    None
                }
            },
            &ops,
        ),
    ));
    let mut lru = lru::LruCache::new(cap);
    rows.push((
        "lru",
        measure(
            |op| match op {
                Op::Get(k) => Some(lru.get(&k).is_some()),
                Op::Insert(k) => {
                    lru.put(k, k);
                    None
                }
            },
            &ops,
        ),
    ));
    let mut schnellru = schnellru::LruMap::new(schnellru::ByLength::new(CAPACITY as u32));
    rows.push((
        "schnellru",
        measure(
            |op| match op {
                Op::Get(k) => Some(schnellru.get(&k).is_some()),
                Op::Insert(k) => {
                    schnellru.insert(k, k);
                    None
                }
            },
            &ops,
        ),
    ));
    let quick = quick_cache::sync::Cache::new(CAPACITY);
    rows.push((
        "quick_cache",
        measure(
            |op| match op {
                Op::Get(k) => Some(quick.get(&k).is_some()),
                Op::Insert(k) => {
                    quick.insert(k, k);
                    None
                }
            },
            &ops,
        ),
    ));
    let moka = moka::sync::Cache::new(CAPACITY as u64);
    rows.push((
        "moka",
        measure(
            |op| match op {
                Op::Get(k) => Some(moka.get(&k).is_some()),
                Op::Insert(k) => {
                    moka.insert(k, k);
                    None
                }
            },
            &ops,
        ),
    ));
    // The lru crate in a Mutex, as the 2-thread bench uses it: same order,
    // same ratio — listed so every row of the bench has its hit ratio.
    let locked = Mutex::new(lru::LruCache::new(cap));
    rows.push((
        "lru_mutex",
        measure(
            |op| {
                let mut cache = locked.lock().unwrap_or_else(|e| e.into_inner());
                match op {
                    Op::Get(k) => Some(cache.get(&k).is_some()),
                    Op::Insert(k) => {
                        cache.put(k, k);
                        None
                    }
                }
            },
            &ops,
        ),
    ));

    println!("| cache | hit ratio on Zipf({S}), capacity {CAPACITY}, {KEYS} keys |");
    println!("|---|---:|");
    let exact = rows[0].1;
    let mut records = Vec::new();
    for (name, ratio) in &rows {
        println!(
            "| {name} | {ratio:.2} % ({:+.2} points vs exact LRU) |",
            ratio - exact
        );
        records.push(Record::new(
            "lru",
            format!("zipf s={S} capacity={CAPACITY} keys={KEYS} get%={GET_PERCENT} cache={name}"),
            "hit_ratio",
            (ratio * 100.0).round() / 100.0,
            "%",
        ));
    }
    match results::write("lru-zipf", &records) {
        Ok(path) => println!("written to {}", path.display()),
        Err(e) => {
            eprintln!("lru_zipf: writing results: {e}");
            std::process::exit(1);
        }
    }
}
