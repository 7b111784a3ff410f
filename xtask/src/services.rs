//! The three services every test and bench talks to: started through the
//! testkit, or taken from the environment where a URL is already set.

use std::net::{TcpStream, ToSocketAddrs};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use perfect21_testkit::env::{DATABASE_URL, REDIS_CLUSTER_URLS, REDIS_URL};
use perfect21_testkit::{PgServer, RedisCluster, RedisServer, resp};

use crate::signals;

const REACH_TIMEOUT: Duration = Duration::from_secs(3);

/// Running services and their URLs; servers we started stop when this drops.
#[derive(Debug)]
pub(crate) struct Services {
    pub(crate) redis_url: String,
    pub(crate) cluster_urls: Vec<String>,
    pub(crate) database_url: String,
    _redis: Option<RedisServer>,
    _cluster: Option<RedisCluster>,
    _postgres: Option<PgServer>,
}

impl Services {
    /// Checks the URLs given in the environment (fails fast, naming the URL,
    /// when one is not reachable), then starts the missing servers in
    /// parallel.
    pub(crate) fn start() -> Result<Self> {
        Self::start_with(true)
    }

    /// [`start`](Self::start) without the Redis Cluster, for runs that do
    /// not use it (a cluster nobody talks to would still take memory and
    /// CPU from what is measured).
    pub(crate) fn start_without_cluster() -> Result<Self> {
        Self::start_with(false)
    }

    fn start_with(cluster_wanted: bool) -> Result<Self> {
        let given = |name| {
            std::env::var(name)
                .ok()
                .filter(|v: &String| !v.trim().is_empty())
        };
        let (redis_given, cluster_given, database_given) = (
            given(REDIS_URL),
            given(REDIS_CLUSTER_URLS),
            given(DATABASE_URL),
        );
        if let Some(url) = &redis_given {
            check_redis(REDIS_URL, url)?;
        }
        let cluster_given = cluster_given.filter(|_| cluster_wanted);
        if let Some(urls) = &cluster_given {
            for url in urls.split(',').filter(|u| !u.trim().is_empty()) {
                check_redis(REDIS_CLUSTER_URLS, url.trim())?;
            }
        }
        if let Some(url) = &database_given {
            check_tcp(DATABASE_URL, url, 5432)?;
        }

        let started = Instant::now();
        let (redis, cluster, postgres) = std::thread::scope(|s| {
            let redis = s.spawn(|| redis_given.is_none().then(RedisServer::start).transpose());
            let cluster = s.spawn(|| {
                (cluster_wanted && cluster_given.is_none())
                    .then(RedisCluster::start)
                    .transpose()
            });
            let postgres = s.spawn(|| database_given.is_none().then(PgServer::start).transpose());
            (join(redis), join(cluster), join(postgres))
        });
        let redis = redis?.context("starting redis-server")?;
        let cluster = cluster?.context("starting the Redis Cluster")?;
        let postgres = postgres?.context("starting Postgres")?;
        if redis.is_some() || cluster.is_some() || postgres.is_some() {
            eprintln!(
                "xtask: services ready in {:.1}s",
                started.elapsed().as_secs_f64()
            );
        }
        if signals::interrupted() {
            bail!("interrupted by a signal");
        }
        Ok(Self {
            redis_url: redis_given
                .unwrap_or_else(|| redis.as_ref().map(RedisServer::url).unwrap_or_default()),
            cluster_urls: match cluster_given {
                Some(urls) => urls
                    .split(',')
                    .map(|u| u.trim().to_string())
                    .filter(|u| !u.is_empty())
                    .collect(),
                None => cluster.as_ref().map(RedisCluster::urls).unwrap_or_default(),
            },
            database_url: database_given
                .unwrap_or_else(|| postgres.as_ref().map(PgServer::url).unwrap_or_default()),
            _redis: redis,
            _cluster: cluster,
            _postgres: postgres,
        })
    }

    /// The three `NAME=value` lines.
    pub(crate) fn lines(&self) -> [String; 3] {
        [
            format!("{REDIS_URL}={}", self.redis_url),
            format!("{REDIS_CLUSTER_URLS}={}", self.cluster_urls.join(",")),
            format!("{DATABASE_URL}={}", self.database_url),
        ]
    }

    /// Exports the URLs to a child command.
    pub(crate) fn export<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        command
            .env(REDIS_URL, &self.redis_url)
            .env(REDIS_CLUSTER_URLS, self.cluster_urls.join(","))
            .env(DATABASE_URL, &self.database_url)
    }
}

fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> Result<T> {
    handle
        .join()
        .map_err(|_| anyhow!("a server start panicked"))
}

/// `cargo xtask services`
pub(crate) fn main(args: &[String]) -> Result<ExitCode> {
    crate::parse_flags(args, &[])?;
    let services = Services::start()?;
    for line in services.lines() {
        println!("{line}");
    }
    eprintln!("xtask: services running; Ctrl-C or SIGTERM stops them and removes their data");
    signals::wait();
    drop(services);
    eprintln!("xtask: services stopped and removed");
    Ok(ExitCode::SUCCESS)
}

/// `user:password@` in a URL becomes `user:***@`: never print a password.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => url.to_string(),
    }
}

/// `host:port` out of a URL, with a default port.
fn host_port(url: &str, default_port: u16) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        return None;
    }
    Some(
        if host_port
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            host_port.to_string()
        } else {
            format!("{host_port}:{default_port}")
        },
    )
}

fn check_tcp(name: &str, url: &str, default_port: u16) -> Result<String> {
    let shown = redact(url);
    let addr = host_port(url, default_port)
        .ok_or_else(|| anyhow!("{name}={shown} is not a URL of the form scheme://host:port/…"))?;
    let socket = addr
        .to_socket_addrs()
        .with_context(|| format!("{name}={shown}: cannot resolve {addr}"))?
        .next()
        .ok_or_else(|| anyhow!("{name}={shown}: {addr} resolves to nothing"))?;
    TcpStream::connect_timeout(&socket, REACH_TIMEOUT)
        .map_err(|e| anyhow!("{name}={shown} is not reachable: {e}"))?;
    Ok(addr)
}

fn check_redis(name: &str, url: &str) -> Result<()> {
    let addr = check_tcp(name, url, 6379)?;
    // Any reply (even NOAUTH) proves a Redis server is listening.
    resp::command(&addr, &["PING"], REACH_TIMEOUT)
        .map(|_| ())
        .map_err(|e| anyhow!("{name}={} does not answer PING: {e}", redact(url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact("redis://:s3cret@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact("postgres://app:pw@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(
            redact("postgres://postgres@db/x"),
            "postgres://postgres@db/x"
        );
        assert_eq!(redact("redis://127.0.0.1:1"), "redis://127.0.0.1:1");
    }

    #[test]
    fn finds_host_and_port() {
        assert_eq!(
            host_port("redis://127.0.0.1:7000", 6379).as_deref(),
            Some("127.0.0.1:7000")
        );
        assert_eq!(
            host_port("redis://:pw@localhost/2", 6379).as_deref(),
            Some("localhost:6379")
        );
        assert_eq!(
            host_port("postgres://u:p@h:5433/db?x=1", 5432).as_deref(),
            Some("h:5433")
        );
        assert_eq!(host_port("not a url", 1), None);
    }
}
