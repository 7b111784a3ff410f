//! Replays an ARC-format block trace through one cache and reports its hit
//! ratio (demand paging: a miss inserts the block).
//!
//! ```text
//! cargo run --release -p perfect21-benches --bin trace -- \
//!     --cache CACHE --capacity N [--threads T] FILE
//! ```
//!
//! `CACHE` is `lru` (perfect21's exact `LruCache`), `concurrent`
//! (`ConcurrentLru`, the trace split round-robin over `T` threads, default
//! 2), `moka`, `quick_cache` or `lru-crate`. `FILE` is plain or `.zst`. The
//! last line of stdout is `accesses=A hits=H hit_ratio=R` (R in percent,
//! two decimals); the result is also written under
//! `target/perfect21-results/` for `cargo xtask bench`. For `concurrent`,
//! the exact LRU is replayed too and the deviation recorded.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use perfect21_benches::lru::caches::{self, Kind};
use perfect21_benches::lru::trace;
use perfect21_benches::results::{self, Record};

const USAGE: &str = "usage: trace --cache lru|concurrent|moka|quick_cache|lru-crate --capacity N [--threads T] FILE";

struct Args {
    cache: Kind,
    capacity: usize,
    threads: usize,
    file: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut cache = None;
    let mut capacity = None;
    let mut threads = 2;
    let mut file = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--cache" => cache = Some(value("--cache")?.parse::<Kind>()?),
            "--capacity" => {
                let v = value("--capacity")?;
                capacity = Some(
                    v.parse::<usize>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or(format!("--capacity: `{v}` is not a positive integer"))?,
                );
            }
            "--threads" => {
                let v = value("--threads")?;
                threads = v
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| (1..=256).contains(&n))
                    .ok_or(format!("--threads: `{v}` is not in 1..=256"))?;
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            other => file = Some(PathBuf::from(other)),
        }
    }
    Ok(Args {
        cache: cache.ok_or("--cache is required")?,
        capacity: capacity.ok_or("--capacity is required")?,
        threads,
        file: file.ok_or("a trace FILE is required")?,
    })
}

fn percent(hits: u64, accesses: usize) -> f64 {
    if accesses == 0 {
        0.0
    } else {
        100.0 * hits as f64 / accesses as f64
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("trace: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let accesses = match trace::read(&args.file) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("trace: reading {}: {e}", args.file.display());
            return ExitCode::FAILURE;
        }
    };
    let name = args
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .unwrap_or("trace")
        .to_string();
    let threads = if args.cache == Kind::Concurrent {
        args.threads
    } else {
        1
    };

    let started = Instant::now();
    let hits = caches::replay(args.cache, args.capacity, threads, &accesses);
    let elapsed = started.elapsed();
    let ratio = percent(hits, accesses.len());

    let case = format!(
        "trace {name} capacity={} cache={}{}",
        args.capacity,
        args.cache.name(),
        if threads > 1 {
            format!(" threads={threads}")
        } else {
            String::new()
        }
    );
    println!("| trace | capacity | cache | threads | accesses | hits | hit ratio | time |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|");
    println!(
        "| {name} | {} | {} | {threads} | {} | {hits} | {ratio:.2} % | {:.2} s |",
        args.capacity,
        args.cache.name(),
        accesses.len(),
        elapsed.as_secs_f64()
    );
    let mut records = vec![Record::new(
        "lru",
        case.clone(),
        "hit_ratio",
        (ratio * 100.0).round() / 100.0,
        "%",
    )];
    if args.cache == Kind::Concurrent {
        let exact = percent(
            caches::replay(Kind::Lru, args.capacity, 1, &accesses),
            accesses.len(),
        );
        // `+ 0.0` turns a rounded -0.00 into 0.00.
        let deviation = ((ratio - exact) * 100.0).round() / 100.0 + 0.0;
        println!("exact LRU at this capacity: {exact:.2} %; deviation {deviation:+.2} points");
        records.push(Record::new(
            "lru",
            case,
            "deviation from exact LRU",
            deviation,
            "points",
        ));
    }
    let file = format!(
        "lru-trace-{name}-{:06}-{}",
        args.capacity,
        args.cache.name()
    );
    if let Err(e) = results::write(&file, &records) {
        eprintln!("trace: writing results: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "accesses={} hits={hits} hit_ratio={ratio:.2}",
        accesses.len()
    );
    ExitCode::SUCCESS
}
