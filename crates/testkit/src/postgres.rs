//! A throwaway PostgreSQL server with `pg_stat_statements`.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::{Gid, Uid, User};

use crate::error::IoContext;
use crate::scratch::ScratchDir;
use crate::{Error, Result, binaries, port, process};

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_GRACE: Duration = Duration::from_secs(15);
/// The database every server gets, with `pg_stat_statements` created in it.
pub const DATABASE: &str = "perfect21";

/// The system user Postgres runs as when the harness runs as root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: Uid,
    gid: Gid,
}

/// `initdb` + `postgres` on 127.0.0.1, trust auth, superuser `postgres`, no
/// password; `pg_stat_statements` preloaded and created in the database
/// [`DATABASE`]. Durability is off (`fsync`, `synchronous_commit`,
/// `full_page_writes`): this is a test server. Removed on drop.
///
/// As root, `initdb` and `postgres` run as the `postgres` system user, and the
/// data lives in a private directory under the system temp dir that this user
/// owns (a checkout under `/root` is not reachable by it).
#[derive(Debug)]
pub struct PgServer {
    bindir: PathBuf,
    port: u16,
    run_as: Option<RunAs>,
    child: Option<Child>,
    // Declared last: dropped after the process is stopped.
    dir: ScratchDir,
}

impl PgServer {
    /// Creates a cluster, starts it on a free port, waits until it accepts
    /// connections and creates the database `perfect21` with `pg_stat_statements`.
    pub fn start() -> Result<Self> {
        let bindir = binaries::postgres_bindir()?;
        let run_as = if Uid::effective().is_root() {
            let user = User::from_name("postgres")
                .ok()
                .flatten()
                .ok_or(Error::NoPostgresUser)?;
            Some(RunAs {
                uid: user.uid,
                gid: user.gid,
            })
        } else {
            None
        };
        let dir = ScratchDir::new("postgres")?;
        if let Some(who) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(who.uid.as_raw()), Some(who.gid.as_raw()))
                .context(|| format!("giving {} to the postgres user", dir.path().display()))?;
        }
        let port = port::free_port("postgres")?;
        let mut server = Self {
            bindir,
            port,
            run_as,
            child: None,
            dir,
        };
        server.initdb()?;
        server.spawn()?;
        server.psql("postgres", &format!("CREATE DATABASE {DATABASE}"))?;
        server.psql(
            DATABASE,
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
        )?;
        Ok(server)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// A command for one of the server binaries, as the right user.
    fn server_command(&self, binary: &str) -> Command {
        let mut command = Command::new(self.bindir.join(binary));
        command.current_dir(self.dir.path()).stdin(Stdio::null());
        if let Some(who) = self.run_as {
            command.uid(who.uid.as_raw()).gid(who.gid.as_raw());
        }
        command
    }

    fn initdb(&self) -> Result<()> {
        let mut command = self.server_command("initdb");
        command.arg("-D").arg(self.data_dir()).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        let output = command.output().context(|| "running initdb".into())?;
        if !output.status.success() {
            return Err(Error::CommandFailed {
                command: format!("{command:?}"),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        Ok(())
    }

    fn spawn(&mut self) -> Result<()> {
        let log = self.log_path();
        let log_file = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .context(|| format!("opening {}", log.display()))?;
        let mut command = self.server_command("postgres");
        command
            .arg("-D")
            .arg(self.data_dir())
            .args(["-p", &self.port.to_string()])
            .arg("-k")
            .arg(self.dir.path())
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "shared_preload_libraries=pg_stat_statements"])
            .args(["-c", "max_connections=200"])
            .args(["-c", "fsync=off"])
            .args(["-c", "full_page_writes=off"])
            // Its own process group: a Ctrl-C meant for the harness does not
            // reach the server; the harness stops it in order.
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(log_file);
        let mut child = command.spawn().context(|| "spawning postgres".into())?;
        self.dir.record_server(child.id(), Signal::SIGQUIT);
        let pid_file = self.data_dir().join("postmaster.pid");
        let waited = process::wait_ready(&mut child, READY_TIMEOUT, || {
            // Line 8 of postmaster.pid is the postmaster's status.
            std::fs::read_to_string(&pid_file)
                .is_ok_and(|text| text.lines().nth(7).is_some_and(|l| l.trim() == "ready"))
        });
        match waited {
            Ok(()) => {
                self.child = Some(child);
                Ok(())
            }
            Err(reason) => {
                process::stop_child(&mut child, Signal::SIGQUIT, STOP_GRACE);
                Err(Error::StartFailed {
                    server: format!("postgres on port {}", self.port),
                    reason,
                    log_tail: process::log_tail(&log, 20),
                    log,
                })
            }
        }
    }

    /// `postgres://postgres@127.0.0.1:PORT/perfect21`
    pub fn url(&self) -> String {
        self.url_for(DATABASE)
    }

    /// The URL of another database on this server.
    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The postmaster's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the postmaster is running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Runs SQL through `psql` in `database`; returns its unaligned output.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String> {
        let psql = binaries::psql(&self.bindir)?;
        let mut command = Command::new(psql);
        command
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
            ])
            .args(["-p", &self.port.to_string(), "-d", database, "-c", sql])
            .env("PGCONNECT_TIMEOUT", "10")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        let output = command.output().context(|| "running psql".into())?;
        if !output.status.success() {
            return Err(Error::CommandFailed {
                command: format!("psql -d {database} -c {sql:?}"),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// Creates an empty database without `pg_stat_statements` (for tests of
    /// the "extension missing" path); returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String> {
        self.psql(
            "postgres",
            &format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\"")),
        )?;
        Ok(self.url_for(name))
    }

    /// Immediate shutdown (SIGQUIT), as a crash would: no checkpoint, the next
    /// start runs crash recovery. Keeps the port and data directory.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::stop_child(&mut child, Signal::SIGQUIT, STOP_GRACE);
        }
    }

    /// Fast shutdown (SIGINT): open sessions are disconnected, data is kept.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::stop_child(&mut child, Signal::SIGINT, STOP_GRACE);
        }
    }

    /// Starts the server again on the same port and data after
    /// [`kill`](Self::kill) or [`stop`](Self::stop).
    pub fn start_again(&mut self) -> Result<()> {
        self.stop();
        self.spawn()
    }

    /// The server's log so far (for assertions and error messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The scratch directory (data, socket, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}
