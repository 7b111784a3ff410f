//! The showcase's configuration: flags first, then the environment.

use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::flags::{Flag, flags};
use perfect21_pg_stats::redact_url as redact;

/// Everything the showcase needs to start.
#[derive(Clone)]
pub struct Config {
    /// Port on 127.0.0.1 (0: any free port). `--port`, `PORT`.
    pub port: u16,
    /// The primary Postgres (schema, seed, writes, and one read endpoint). `--database-url`, `DATABASE_URL`.
    pub database_url: String,
    /// The second read endpoint. `--replica-url`, `REPLICA_DATABASE_URL`;
    /// defaults to `database_url` — the demo points both at one server.
    pub replica_url: String,
    /// Redis for the shared cache tier. `--redis-url`, `REDIS_URL`.
    pub redis_url: String,
    /// Base URLs of the upstream replicas. `--upstreams a,b`, `UPSTREAM_URLS`.
    pub upstreams: Vec<String>,
    /// Users to seed (and to serve). `--users`, default 100 000.
    pub users: u64,
    /// Users to pre-load into Redis and L1 at start (the warmer). `--warm`.
    pub warm: u64,
    /// Off: no L1, no Redis tier, no batching, no response or query cache. `--no-cache`.
    pub cache: bool,
    /// L1 budget in bytes. `--l1-bytes`.
    pub l1_bytes: u64,
    /// TTL of profiles in Redis. `--redis-ttl-secs`.
    pub redis_ttl: Duration,
    /// TTL of profiles in L1. `--l1-ttl-secs`.
    pub l1_ttl: Duration,
    /// Connections per Postgres pool. `--db-pool`.
    pub db_pool: usize,
    /// Requests slower than this are logged. `--slow-ms`.
    pub slow_request: Duration,
    /// Period of the maintenance task. `--maintenance-secs`.
    pub maintenance_every: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // URLs may carry passwords: show them redacted.
        f.debug_struct("Config")
            .field("port", &self.port)
            .field("database_url", &redact(&self.database_url))
            .field("replica_url", &redact(&self.replica_url))
            .field("redis_url", &redact(&self.redis_url))
            .field("upstreams", &self.upstreams)
            .field("users", &self.users)
            .field("warm", &self.warm)
            .field("cache", &self.cache)
            .field("l1_bytes", &self.l1_bytes)
            .field("db_pool", &self.db_pool)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads `args` (without the program name) over the environment.
    pub fn from_args(args: &[String]) -> Result<Self> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut config = Config {
            port: env("PORT")
                .map(|p| p.parse())
                .transpose()
                .context("PORT")?
                .unwrap_or(0),
            database_url: env("DATABASE_URL").unwrap_or_default(),
            replica_url: env("REPLICA_DATABASE_URL").unwrap_or_default(),
            redis_url: env("REDIS_URL").unwrap_or_default(),
            upstreams: env("UPSTREAM_URLS")
                .map(|v| split_list(&v))
                .unwrap_or_default(),
            users: 100_000,
            warm: 20_000,
            cache: true,
            l1_bytes: 16 << 20,
            redis_ttl: Duration::from_secs(300),
            l1_ttl: Duration::from_secs(60),
            db_pool: 8,
            slow_request: Duration::from_millis(100),
            maintenance_every: Duration::from_secs(10),
        };
        for flag in flags(args, &["--no-cache"]) {
            let (flag, value) = match flag? {
                Flag::Switch(_) => {
                    config.cache = false;
                    continue;
                }
                Flag::Value(flag, value) => (flag, value),
            };
            match flag {
                "--port" => config.port = value.number()?,
                "--database-url" => config.database_url = value.text(),
                "--replica-url" => config.replica_url = value.text(),
                "--redis-url" => config.redis_url = value.text(),
                "--upstreams" => config.upstreams = split_list(&value.text()),
                "--users" => config.users = value.number()?,
                "--warm" => config.warm = value.number()?,
                "--l1-bytes" => config.l1_bytes = value.number()?,
                "--redis-ttl-secs" => config.redis_ttl = Duration::from_secs(value.number()?),
                "--l1-ttl-secs" => config.l1_ttl = Duration::from_secs(value.number()?),
                "--db-pool" => config.db_pool = value.number()?,
                "--slow-ms" => config.slow_request = Duration::from_millis(value.number()?),
                "--maintenance-secs" => {
                    config.maintenance_every = Duration::from_secs(value.number::<u64>()?.max(1))
                }
                other => bail!("unknown flag {other}"),
            }
        }
        if config.replica_url.is_empty() {
            config.replica_url = config.database_url.clone();
        }
        config.validate()?;
        Ok(config)
    }

    /// Refuses a configuration that cannot work, naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.database_url.is_empty() {
            bail!(
                "DATABASE_URL (or --database-url) is not set: run `cargo xtask demo`, or `cargo xtask services` and export what it prints"
            );
        }
        if self.cache && self.redis_url.is_empty() {
            bail!(
                "REDIS_URL (or --redis-url) is not set, and the cache tier needs it (or pass --no-cache)"
            );
        }
        if self.users == 0 || self.users > 10_000_000 {
            bail!("--users must be 1..=10000000, got {}", self.users);
        }
        if self.db_pool == 0 || self.db_pool > 256 {
            bail!("--db-pool must be 1..=256, got {}", self.db_pool);
        }
        if self.l1_bytes < 1024 {
            bail!("--l1-bytes must be at least 1024, got {}", self.l1_bytes);
        }
        Ok(())
    }
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn refuses_bad_options_by_name_and_hides_passwords() {
        let base = [
            "--database-url",
            "postgres://u:secret@h/db",
            "--redis-url",
            "redis://h",
        ];
        let ok = Config::from_args(&args(&base)).unwrap();
        assert_eq!(ok.replica_url, ok.database_url);
        assert!(!format!("{ok:?}").contains("secret"));
        for (flag, value) in [
            ("--users", "0"),
            ("--db-pool", "0"),
            ("--l1-bytes", "10"),
            ("--port", "70000"),
        ] {
            let mut list = base.to_vec();
            list.extend([flag, value]);
            let error = Config::from_args(&args(&list)).unwrap_err();
            assert!(format!("{error:#}").contains(flag), "{flag}: {error:#}");
        }
        let off = Config::from_args(&args(&[
            "--database-url",
            "postgres://h/db",
            "--redis-url",
            "",
            "--no-cache",
        ]));
        assert!(!off.unwrap().cache);
        assert!(Config::from_args(&args(&["--bogus", "1"])).is_err());
    }
}
