//! Hit ratio of each cache on the Zipf workload of `benches/benches/lru.rs`
//! (s = 0.99, 90 % gets / 10 % inserts over ten times the capacity in keys),
//! so that speed can be read beside what it buys. Writes
//! `target/perfect21-results/lru-zipf.json`.
//!
//! `cargo run --release -p perfect21-benches --bin lru_zipf`

use perfect21_benches::lru::contenders::{self, Alone, Single, apply_single};
use perfect21_benches::lru::zipf::{self, CAPACITY, GET_PERCENT, KEYS, Op, S};
use perfect21_benches::results::{self, Record};

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
    for hit in measured.iter().filter_map(|&op| step(op)) {
        gets += 1;
        hits += u64::from(hit);
    }
    100.0 * hits as f64 / gets as f64
}

fn single<C: Single>(mut cache: C, ops: &[Op]) -> f64 {
    measure(|op| apply_single(&mut cache, op), ops)
}

fn main() {
    let ops = zipf::ops(KEYS, S, GET_PERCENT, LEN, 42);
    let rows = [
        (
            "perfect21 (LruCache)",
            single(contenders::ours(CAPACITY), &ops),
        ),
        (
            "perfect21_concurrent (ConcurrentLru)",
            single(Alone(contenders::ours_concurrent(CAPACITY)), &ops),
        ),
        ("lru", single(contenders::lru_crate(CAPACITY), &ops)),
        ("schnellru", single(contenders::schnellru(CAPACITY), &ops)),
        (
            "quick_cache",
            single(Alone(contenders::quick_sync(CAPACITY)), &ops),
        ),
        ("moka", single(Alone(contenders::moka(CAPACITY)), &ops)),
    ];

    println!("| cache | hit ratio on Zipf({S}), capacity {CAPACITY}, {KEYS} keys |");
    println!("|---|---:|");
    let exact = rows[0].1;
    let mut records = Vec::new();
    for (name, ratio) in rows {
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
