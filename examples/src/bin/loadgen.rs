//! HTTP load generator for the showcase: closed or open loop, Zipf user ids,
//! an endpoint mix, HdrHistogram latencies (coordinated-omission corrected in
//! open loop), a progress bar, and a JSON summary for `cargo xtask demo`.
//!
//! ```text
//! loadgen --url http://127.0.0.1:8080 [--duration 30] [--requests N]
//!         [--connections 64] [--rate R] [--mix user=80,tasks=15,report=5]
//!         [--users 100000] [--zipf 0.99] [--seed 1] [--json out.json] [--quiet]
//!         [--cpu-pid PID]   (the CPU PID used during the measured window)
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use perfect21_examples::flags::{Flag, flags};
use perfect21_examples::loadgen::{self, Config, Mix};

fn parse(args: &[String]) -> Result<(Config, Option<String>)> {
    let mut config = Config {
        url: String::new(),
        duration: Duration::from_secs(30),
        requests: None,
        connections: 64,
        rate: None,
        mix: Mix::parse("user=80,tasks=15,report=5")?,
        users: 100_000,
        zipf: 0.99,
        seed: 1,
        progress: true,
        cpu_pid: None,
    };
    let mut json = None;
    for flag in flags(args, &["--quiet"]) {
        let (flag, value) = match flag? {
            Flag::Switch(_) => {
                config.progress = false;
                continue;
            }
            Flag::Value(flag, value) => (flag, value),
        };
        match flag {
            "--url" => config.url = value.text(),
            "--duration" => config.duration = Duration::from_secs_f64(value.number()?),
            "--requests" => config.requests = Some(value.number()?),
            "--connections" => config.connections = value.number()?,
            "--rate" => config.rate = Some(value.number()?),
            "--mix" => config.mix = Mix::parse(&value.text())?,
            "--users" => config.users = value.number()?,
            "--zipf" => config.zipf = value.number()?,
            "--seed" => config.seed = value.number()?,
            "--cpu-pid" => config.cpu_pid = Some(value.number()?),
            "--json" => json = Some(value.text()),
            other => bail!("unknown flag {other}"),
        }
    }
    if config.url.is_empty() {
        bail!("--url is required");
    }
    Ok((config, json))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (config, json) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("loadgen: {e:#}");
            return ExitCode::from(2);
        }
    };
    match loadgen::run(config).await {
        Ok(summary) => {
            print!("{summary}");
            if let Some(path) = json {
                let written = serde_json::to_vec_pretty(&summary)
                    .map_err(anyhow::Error::from)
                    .and_then(|bytes| std::fs::write(&path, bytes).map_err(Into::into));
                if let Err(e) = written {
                    eprintln!("loadgen: cannot write {path}: {e:#}");
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
