//! A throwaway standalone (or cluster-mode) `redis-server`.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::error::IoContext;
use crate::resp::{self, Reply};
use crate::scratch::ScratchDir;
use crate::{Error, Result, binaries, port, process};

const READY_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A `redis-server` on 127.0.0.1 with persistence off, removed on drop.
///
/// `kill` and `start_again` let a test take the server away mid-test and
/// bring it back on the same port.
#[derive(Debug)]
pub struct RedisServer {
    binary: PathBuf,
    port: u16,
    cluster: bool,
    /// The TLS port, for a server from [`RedisServer::start_tls`].
    tls_port: Option<u16>,
    child: Option<Child>,
    // Declared last: dropped after the process is stopped.
    dir: ScratchDir,
}

impl RedisServer {
    /// Starts a standalone server on a free port and waits until it answers `PING`.
    pub fn start() -> Result<Self> {
        Self::start_on(None, false)
    }

    /// Starts a standalone server that also serves TLS on a second port
    /// ([`tls_url`](Self::tls_url)), with a throwaway CA and a server
    /// certificate for `127.0.0.1`/`localhost` made by the `openssl` CLI in
    /// its scratch directory ([`ca_cert`](Self::ca_cert)). Clients need no
    /// certificate of their own. The plain port stays open for readiness
    /// checks and [`command`](Self::command).
    pub fn start_tls() -> Result<Self> {
        let openssl = binaries::require("openssl", "openssl")?;
        Self::start_with(None, false, Some(&openssl))
    }

    /// `rediss://127.0.0.1:TLS_PORT` for a server from
    /// [`start_tls`](Self::start_tls), `None` otherwise.
    pub fn tls_url(&self) -> Option<String> {
        self.tls_port
            .map(|port| format!("rediss://127.0.0.1:{port}"))
    }

    /// The PEM file of the CA that signed the TLS certificate (a server
    /// from [`start_tls`](Self::start_tls)).
    pub fn ca_cert(&self) -> Option<PathBuf> {
        self.tls_port.map(|_| self.dir.path().join("ca.crt"))
    }

    /// Starts a server on `port` (Some) or a free one, in cluster mode when asked.
    pub(crate) fn start_on(port: Option<u16>, cluster: bool) -> Result<Self> {
        Self::start_with(port, cluster, None)
    }

    /// [`start_on`](Self::start_on), with a TLS port and certificates when
    /// given the `openssl` binary.
    fn start_with(
        port: Option<u16>,
        cluster: bool,
        openssl: Option<&std::path::Path>,
    ) -> Result<Self> {
        let binary = binaries::require("redis-server", "redis-server")?;
        let kind = match (cluster, openssl.is_some()) {
            (true, _) => "redis-cluster-node",
            (false, true) => "redis-tls",
            (false, false) => "redis",
        };
        let attempts = if port.is_some() { 1 } else { 5 };
        let mut last_error = None;
        for _ in 0..attempts {
            let dir = ScratchDir::new(kind)?;
            let port = match port {
                Some(p) => p,
                None => port::free_port("redis-server")?,
            };
            let tls_port = match openssl {
                Some(openssl) => {
                    make_certificates(openssl, dir.path())?;
                    match port::free_port("redis-server TLS")? {
                        taken if taken == port => continue,
                        free => Some(free),
                    }
                }
                None => None,
            };
            let mut server = Self {
                binary: binary.clone(),
                port,
                cluster,
                tls_port,
                child: None,
                dir,
            };
            match server.spawn() {
                Ok(()) => return Ok(server),
                // Another process may have taken the port between the probe
                // and the bind: try a fresh one.
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or(Error::NoFreePort("redis-server")))
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    fn spawn(&mut self) -> Result<()> {
        let log = self.log_path();
        let mut command = Command::new(&self.binary);
        command
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--protected-mode", "no"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            // Tests may switch server behaviour off (Redis ≥ 7.0; `DEBUG
            // SET-ACTIVE-EXPIRE 0`: keys expire only when touched), from
            // loopback only.
            .args(["--enable-debug-command", "local"])
            .args(["--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(&log)
            .current_dir(self.dir.path())
            // Its own process group: a Ctrl-C meant for the harness does not
            // reach the server; the harness stops it in order.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                File::create(self.dir.path().join("stderr.log"))
                    .context(|| "creating redis stderr log".into())?,
            );
        if let Some(tls_port) = self.tls_port {
            let dir = self.dir.path();
            command
                .args(["--tls-port", &tls_port.to_string()])
                .arg("--tls-cert-file")
                .arg(dir.join("server.crt"))
                .arg("--tls-key-file")
                .arg(dir.join("server.key"))
                .arg("--tls-ca-cert-file")
                .arg(dir.join("ca.crt"))
                .args(["--tls-auth-clients", "no"]);
        }
        if self.cluster {
            command
                .args(["--cluster-enabled", "yes"])
                .args(["--cluster-node-timeout", "5000"])
                .arg("--cluster-config-file")
                .arg(self.dir.path().join("nodes.conf"));
        }
        let mut child = command
            .spawn()
            .context(|| format!("spawning {}", self.binary.display()))?;
        self.dir.record_server(child.id(), Signal::SIGKILL);
        let addr = self.addr();
        let waited = process::wait_ready(&mut child, READY_TIMEOUT, || {
            matches!(
                resp::command(&addr, &["PING"], Duration::from_millis(200)),
                Ok(Reply::Status(ref s)) if s == "PONG"
            )
        });
        match waited {
            Ok(()) => {
                self.child = Some(child);
                Ok(())
            }
            Err(reason) => {
                process::stop_child(&mut child, Signal::SIGKILL, STOP_GRACE);
                let mut log_tail = process::log_tail(&log, 15);
                log_tail.push_str(&process::log_tail(&self.dir.path().join("stderr.log"), 5));
                Err(Error::StartFailed {
                    server: format!("redis-server on port {}", self.port),
                    reason,
                    log,
                    log_tail,
                })
            }
        }
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The scratch directory (log, cluster config).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Kills the server with SIGKILL, as a crash would, keeping its port and
    /// directory for [`start_again`](Self::start_again).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::stop_child(&mut child, Signal::SIGKILL, STOP_GRACE);
        }
    }

    /// Starts the server again on the same port after [`kill`](Self::kill).
    pub fn start_again(&mut self) -> Result<()> {
        self.kill();
        self.spawn()
    }

    /// Sends one command over a fresh connection (for tests and checks).
    pub fn command(&self, args: &[&str]) -> Result<Reply> {
        resp::command(&self.addr(), args, Duration::from_secs(5))
            .context(|| format!("sending {} to {}", args.join(" "), self.addr()))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = resp::command(
                &self.addr(),
                &["SHUTDOWN", "NOSAVE"],
                Duration::from_secs(1),
            );
            process::stop_child(&mut child, Signal::SIGTERM, STOP_GRACE);
        }
    }
}

/// A CA and a server certificate for 127.0.0.1/localhost, valid one day,
/// written to `dir` as `ca.crt`, `server.crt` and `server.key`.
fn make_certificates(openssl: &std::path::Path, dir: &std::path::Path) -> Result<()> {
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .context(|| "writing the certificate extensions".into())?;
    const EC: &str = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let steps = [
        format!("req -x509 {EC} -keyout ca.key -out ca.crt -days 1 -subj /CN=perfect21-throwaway-CA"),
        format!("req {EC} -keyout server.key -out server.csr -subj /CN=localhost"),
        "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 -extfile server.ext".to_owned(),
    ];
    for step in &steps {
        let args: Vec<&str> = step.split_whitespace().collect();
        let output = Command::new(openssl)
            .args(&args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .context(|| format!("running {}", openssl.display()))?;
        if !output.status.success() {
            return Err(Error::CommandFailed {
                command: format!("openssl {}", args.join(" ")),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
    }
    Ok(())
}
