//! Checks every service `cargo xtask` provides and prints what it saw.
//!
//! By hand:
//! `cargo xtask services`, export the three lines it prints, then
//! `cargo run -p perfect21-examples --bin smoke`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use perfect21_examples::smoke::{self, Urls};

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set: run `cargo xtask demo`, or `cargo xtask services` and export what it prints"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let urls = match (
        env("REDIS_URL"),
        env("REDIS_CLUSTER_URLS"),
        env("DATABASE_URL"),
    ) {
        (Ok(redis), Ok(cluster), Ok(database)) => Urls {
            redis,
            cluster: cluster.split(',').map(String::from).collect(),
            database,
        },
        (a, b, c) => {
            for error in [a.err(), b.err(), c.err()].into_iter().flatten() {
                eprintln!("{error}");
            }
            return ExitCode::FAILURE;
        }
    };
    println!("Perfect21 smoke check: the services the crates are tested against\n");
    let checks = smoke::run(&urls).await;
    for check in &checks {
        println!("{check}");
    }
    let failed = checks.iter().filter(|c| c.outcome.is_err()).count();
    println!("\n{} checks, {failed} failed", checks.len());
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
