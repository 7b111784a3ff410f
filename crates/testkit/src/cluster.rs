//! A throwaway three-master Redis Cluster.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::error::IoContext;
use crate::redis::RedisServer;
use crate::resp::Reply;
use crate::{Error, Result, binaries, port};

const MASTERS: usize = 3;
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Three `redis-server` masters in cluster mode, slots spread by
/// `redis-cli --cluster create`, ready once every node reports
/// `cluster_state:ok`. Removed on drop.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts the three nodes, creates the cluster and waits until it is ok.
    pub fn start() -> Result<Self> {
        let redis_cli = binaries::require("redis-cli", "redis-tools")?;
        let mut ports = Vec::with_capacity(MASTERS);
        let mut nodes = Vec::with_capacity(MASTERS);
        for _ in 0..MASTERS {
            // Ports at or below 55535: the cluster bus listens on port + 10000.
            let port = port::free_cluster_port(&ports)?;
            ports.push(port);
            nodes.push(RedisServer::start_on(Some(port), true)?);
        }
        let cluster = Self { nodes };
        let mut create = Command::new(&redis_cli);
        create.args(["--cluster", "create"]);
        create.args(cluster.nodes.iter().map(RedisServer::addr));
        create.args(["--cluster-replicas", "0", "--cluster-yes"]);
        let output = create
            .output()
            .context(|| format!("running {}", redis_cli.display()))?;
        if !output.status.success() {
            return Err(Error::CommandFailed {
                command: format!("{create:?}"),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
            });
        }
        cluster.wait_ok()?;
        Ok(cluster)
    }

    fn wait_ok(&self) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let states: Vec<String> = self.nodes.iter().map(|n| n.cluster_state()).collect();
            if states.iter().all(|s| s == "ok") {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::StartFailed {
                    server: "Redis Cluster".into(),
                    reason: format!("cluster_state per node after {READY_TIMEOUT:?}: {states:?}"),
                    log: Default::default(),
                    log_tail: String::new(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The nodes' URLs, `redis://127.0.0.1:PORT` each.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The nodes, to kill or restart one in a test.
    pub fn nodes_mut(&mut self) -> &mut [RedisServer] {
        &mut self.nodes
    }
}

impl RedisServer {
    /// `cluster_state` from `CLUSTER INFO` (`ok`, `fail`, or why it is unknown).
    pub fn cluster_state(&self) -> String {
        match self.command(&["CLUSTER", "INFO"]) {
            Ok(reply) => cluster_state(&reply),
            Err(e) => e.to_string(),
        }
    }
}

/// Reads `cluster_state:` out of a `CLUSTER INFO` reply.
pub(crate) fn cluster_state(reply: &Reply) -> String {
    reply
        .as_text()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix("cluster_state:")
                    .map(|s| s.trim().to_string())
            })
        })
        .unwrap_or_else(|| format!("unexpected reply {reply:?}"))
}
