use std::path::PathBuf;

/// What can go wrong while starting or stopping a throwaway server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A server binary is not installed.
    #[error("`{binary}` was not found on PATH{searched}; install the Debian package `{package}`")]
    MissingBinary {
        /// The binary that was looked for.
        binary: &'static str,
        /// The Debian package that provides it.
        package: &'static str,
        /// Where else it was looked for, already formatted for the message.
        searched: String,
    },
    /// Running as root, Postgres needs an unprivileged user to run as.
    #[error(
        "running as root, Postgres must run as the `postgres` system user, which does not exist (the Debian package `postgresql` creates it)"
    )]
    NoPostgresUser,
    /// The server process exited or never became ready.
    #[error("{server} did not start: {reason}\n--- last lines of {log} ---\n{log_tail}")]
    StartFailed {
        /// Which server.
        server: String,
        /// What was observed.
        reason: String,
        /// The server's log file.
        log: PathBuf,
        /// The end of that log.
        log_tail: String,
    },
    /// A command the harness runs (initdb, psql, redis-cli) failed.
    #[error("`{command}` failed: {output}")]
    CommandFailed {
        /// The command line.
        command: String,
        /// Its standard error and output.
        output: String,
    },
    /// No free loopback port could be found.
    #[error("no free loopback port found for {0}")]
    NoFreePort(&'static str),
    /// An I/O error while preparing or talking to a server.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The testkit's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) trait IoContext<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: what(),
            source,
        })
    }
}
