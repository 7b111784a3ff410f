//! `StatsPool::builder` — every option validated at `build()`.

use std::sync::Arc;
use std::time::Duration;

use deadpool::Runtime;
use deadpool_postgres::{ManagerConfig, RecyclingMethod};
use tokio_postgres::NoTls;

use crate::error::{Error, Result};
use crate::manager::{PoolCounters, StatsManager};
use crate::normalize::normalize;
use crate::pool::StatsPool;
use crate::redact::redact_url;
use crate::registry::Registry;
use crate::slow::SlowLog;

enum Source {
    Url(String),
    Config(Box<deadpool_postgres::Config>),
}

/// Builds a [`StatsPool`]; see [`StatsPool::builder`].
///
/// Its `Debug` form never shows the password, session-setting values or
/// the literals of a custom recycle statement.
pub struct StatsPoolBuilder {
    source: Source,
    max_size: usize,
    wait_timeout: Option<Duration>,
    create_timeout: Option<Duration>,
    recycle_timeout: Option<Duration>,
    recycling_method: RecyclingMethod,
    max_lifetime: Option<Duration>,
    application_name: Option<String>,
    statement_timeout: Option<Duration>,
    session_settings: Vec<(String, String)>,
    slow_threshold: Duration,
    log_parameters: bool,
    slow_log_capacity: usize,
    max_statements: usize,
}

impl std::fmt::Debug for StatsPoolBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Url(url) => redact_url(url),
            Source::Config(_) => "deadpool_postgres::Config { .. }".to_owned(),
        };
        f.debug_struct("StatsPoolBuilder")
            .field("source", &source)
            .field("max_size", &self.max_size)
            .field("wait_timeout", &self.wait_timeout)
            .field("create_timeout", &self.create_timeout)
            .field("recycle_timeout", &self.recycle_timeout)
            // A custom recycle statement shown normalised (no literals).
            .field(
                "recycling_method",
                &match &self.recycling_method {
                    RecyclingMethod::Custom(sql) => format!("Custom({:?})", normalize(sql)),
                    other => format!("{other:?}"),
                },
            )
            .field("max_lifetime", &self.max_lifetime)
            .field("application_name", &self.application_name)
            .field("statement_timeout", &self.statement_timeout)
            // Names only: a session setting's value may be a secret.
            .field(
                "session_settings",
                &self
                    .session_settings
                    .iter()
                    .map(|(name, _)| format!("{name}=…"))
                    .collect::<Vec<_>>(),
            )
            .field("slow_threshold", &self.slow_threshold)
            .field("log_parameters", &self.log_parameters)
            .field("slow_log_capacity", &self.slow_log_capacity)
            .field("max_statements", &self.max_statements)
            .finish()
    }
}

impl StatsPoolBuilder {
    pub(crate) fn from_url(url: &str) -> Self {
        Self::new(Source::Url(url.to_owned()))
    }

    pub(crate) fn from_config(config: deadpool_postgres::Config) -> Self {
        let mut b = Self::new(Source::Config(Box::new(config.clone())));
        if let Some(pool) = &config.pool {
            b.max_size = pool.max_size;
            b.wait_timeout = pool.timeouts.wait;
            b.create_timeout = pool.timeouts.create;
            b.recycle_timeout = pool.timeouts.recycle;
        }
        if let Some(manager) = config.manager {
            b.recycling_method = manager.recycling_method;
        }
        b
    }

    fn new(source: Source) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            source,
            max_size: cpus * 4,
            wait_timeout: Some(Duration::from_secs(30)),
            create_timeout: Some(Duration::from_secs(10)),
            recycle_timeout: Some(Duration::from_secs(5)),
            recycling_method: RecyclingMethod::Verified,
            max_lifetime: Some(Duration::from_secs(3600)),
            application_name: None,
            statement_timeout: None,
            session_settings: Vec::new(),
            slow_threshold: Duration::from_millis(500),
            log_parameters: false,
            slow_log_capacity: 128,
            max_statements: 1000,
        }
    }

    /// Most connections open at once (default: 4 × CPUs). At least 1.
    pub fn max_size(mut self, n: usize) -> Self {
        self.max_size = n;
        self
    }

    /// How long `get()` waits for a free connection (default 30 s; `None`
    /// waits forever). A timeout is counted in [`PoolStats::acquire_timeouts`](crate::PoolStats::acquire_timeouts).
    pub fn wait_timeout(mut self, t: Option<Duration>) -> Self {
        self.wait_timeout = t;
        self
    }

    /// How long opening a connection may take (default 10 s).
    pub fn create_timeout(mut self, t: Option<Duration>) -> Self {
        self.create_timeout = t;
        self
    }

    /// How long the recycle check may take (default 5 s).
    pub fn recycle_timeout(mut self, t: Option<Duration>) -> Self {
        self.recycle_timeout = t;
        self
    }

    /// How a returning connection is checked before reuse (default
    /// [`RecyclingMethod::Verified`]: a round trip, like SQLAlchemy's
    /// `pool_pre_ping`).
    pub fn recycling_method(mut self, m: RecyclingMethod) -> Self {
        self.recycling_method = m;
        self
    }

    /// Connections older than this are closed when they come back to the
    /// pool (when their [`StatsClient`](crate::StatsClient) is dropped),
    /// never while in use, so no caller pays for it at checkout; one that
    /// ages past it while idle in the pool is closed by the next `get()`
    /// that takes it (default 1 h, like `pool_recycle=3600`; `None` keeps
    /// them forever). Counted in [`ClosedCounts::max_lifetime`](crate::ClosedCounts::max_lifetime).
    pub fn max_lifetime(mut self, t: Option<Duration>) -> Self {
        self.max_lifetime = t;
        self
    }

    /// `application_name` the server shows in `pg_stat_activity` (at most 63 bytes).
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = Some(name.into());
        self
    }

    /// Server-side `statement_timeout` for every connection (whole
    /// milliseconds, at least 1 ms). A cancelled statement is counted in
    /// [`StatementStats::timeouts`](crate::StatementStats::timeouts).
    pub fn statement_timeout(mut self, t: Duration) -> Self {
        self.statement_timeout = Some(t);
        self
    }

    /// A session setting sent at connection start-up (`-c name=value`), e.g.
    /// `("jit", "off")`. Only session-level settings work; server-level ones
    /// (`shared_buffers`) belong in `ALTER SYSTEM`.
    pub fn session_setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.session_settings.push((name.into(), value.into()));
        self
    }

    /// Statements at least this slow are logged and kept in the ring
    /// (default 500 ms).
    pub fn slow_threshold(mut self, t: Duration) -> Self {
        self.slow_threshold = t;
        self
    }

    /// Include the parameters' values in slow-query events (default off:
    /// they may hold personal data).
    pub fn log_parameters(mut self, on: bool) -> Self {
        self.log_parameters = on;
        self
    }

    /// How many recent slow queries are kept (default 128; 0 keeps none).
    pub fn slow_log_capacity(mut self, n: usize) -> Self {
        self.slow_log_capacity = n;
        self
    }

    /// Most distinct normalised statements tracked (default 1000, at least
    /// 1); later ones share the [`OTHER`](crate::OTHER) row. Each costs about
    /// 20 KiB of histogram.
    pub fn max_statements(mut self, n: usize) -> Self {
        self.max_statements = n;
        self
    }

    /// Validates the options and creates the pool (no connection is opened
    /// yet).
    pub fn build(self) -> Result<StatsPool> {
        if self.max_size == 0 {
            return Err(Error::config("max_size", "must be at least 1"));
        }
        for (field, t) in [
            ("wait_timeout", self.wait_timeout),
            ("create_timeout", self.create_timeout),
            ("recycle_timeout", self.recycle_timeout),
            ("max_lifetime", self.max_lifetime),
        ] {
            if t == Some(Duration::ZERO) {
                return Err(Error::config(field, "must be greater than zero (or None)"));
            }
        }
        if self.max_statements == 0 {
            return Err(Error::config("max_statements", "must be at least 1"));
        }
        let mut pg = match &self.source {
            Source::Url(url) => url.parse::<tokio_postgres::Config>().map_err(|_| {
                Error::config(
                    "url",
                    "is not a valid connection string (expected postgres://user@host:port/db or key=value pairs)",
                )
            })?,
            Source::Config(cfg) => cfg
                .get_pg_config()
                .map_err(|e| Error::config("config", format!("is invalid: {e}")))?,
        };
        if let Some(name) = &self.application_name {
            if name.len() > 63 || name.contains('\0') {
                return Err(Error::config(
                    "application_name",
                    "must be at most 63 bytes with no NUL",
                ));
            }
            pg.application_name(name);
        }
        let mut options = pg.get_options().unwrap_or("").to_owned();
        if let Some(t) = self.statement_timeout {
            let ms = t.as_millis();
            if ms == 0 || ms > i32::MAX as u128 {
                return Err(Error::config(
                    "statement_timeout",
                    format!("must be between 1 ms and {} ms", i32::MAX),
                ));
            }
            push_option(&mut options, "statement_timeout", &ms.to_string());
        }
        for (name, value) in &self.session_settings {
            let valid_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
            if !valid_name {
                return Err(Error::config(
                    "session_setting",
                    format!("name `{name}` must be a setting name (letters, digits, `_`, `.`)"),
                ));
            }
            if value.contains('\0') {
                return Err(Error::config(
                    "session_setting",
                    format!("value of `{name}` must not contain NUL"),
                ));
            }
            push_option(&mut options, name, value);
        }
        if !options.is_empty() {
            pg.options(&options);
        }
        if let Some(t) = self.create_timeout
            && pg.get_connect_timeout().is_none()
        {
            pg.connect_timeout(t);
        }

        let counters = Arc::new(PoolCounters::new());
        let manager = deadpool_postgres::Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: self.recycling_method,
            },
        );
        let manager = StatsManager::new(manager, Arc::clone(&counters), self.max_lifetime);
        let pool = deadpool::managed::Pool::builder(manager)
            .max_size(self.max_size)
            .wait_timeout(self.wait_timeout)
            .create_timeout(self.create_timeout)
            .recycle_timeout(self.recycle_timeout)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| Error::config("runtime", format!("pool could not be built: {e}")))?;
        let registry = Arc::new(Registry::new(
            self.max_statements,
            SlowLog::new(
                self.slow_threshold,
                self.log_parameters,
                self.slow_log_capacity,
            ),
        ));
        Ok(StatsPool::from_parts(pool, registry, counters))
    }
}

/// Appends `-c name=value` to a libpq `options` string, escaping spaces and
/// backslashes in the value as libpq requires.
fn push_option(options: &mut String, name: &str, value: &str) {
    if !options.is_empty() {
        options.push(' ');
    }
    options.push_str("-c ");
    options.push_str(name);
    options.push('=');
    for c in value.chars() {
        if c == ' ' || c == '\\' {
            options.push('\\');
        }
        options.push(c);
    }
}
