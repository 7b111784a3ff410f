//! `HttpProbe`: a synthetic GET every interval, recorded as metrics.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::error::{MonitorError, invalid};
use crate::redact;
use crate::registry::Registry;

/// GETs a URL every interval and records, labelled `url`:
/// `probe_latency_seconds` (histogram), `probe_status` (gauge: the HTTP
/// status, 0 on a transport error or timeout), `probe_requests_total` and
/// `probe_failures_total` (counters; a failure is a transport error, a
/// timeout or a non-2xx status) — the original guide's API health check.
///
/// The `url` label, `Debug` and logs show the URL without its userinfo,
/// query or fragment (where credentials and tokens go): scheme, host, port
/// and path.
#[derive(Clone)]
pub struct HttpProbe {
    client: reqwest::Client,
    url: Url,
    /// The URL as shown in labels and logs.
    shown: String,
    interval: Duration,
    registry: Registry,
}

impl fmt::Debug for HttpProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpProbe")
            .field("url", &self.shown)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// Builder for an [`HttpProbe`].
#[derive(Clone)]
pub struct HttpProbeBuilder {
    url: String,
    interval: Duration,
    timeout: Duration,
    registry: Registry,
}

impl fmt::Debug for HttpProbeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpProbeBuilder")
            .field("url", &redact::unparsed(&self.url))
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HttpProbe {
    /// A probe of `url` recording into `registry`. Defaults: every 30 s,
    /// 5 s timeout.
    pub fn builder(url: impl Into<String>, registry: Registry) -> HttpProbeBuilder {
        HttpProbeBuilder {
            url: url.into(),
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            registry,
        }
    }

    /// One probe now; returns the HTTP status (`None` on failure to get one).
    pub async fn check(&self) -> Result<Option<u16>, MonitorError> {
        let labels = [("url", self.shown.as_str())];
        let latency = self.registry.histogram("probe_latency_seconds", &labels)?;
        let status_gauge = self.registry.gauge("probe_status", &labels)?;
        let requests = self.registry.counter("probe_requests_total", &labels)?;
        let failures = self.registry.counter("probe_failures_total", &labels)?;
        let start = Instant::now();
        let result = self.client.get(self.url.clone()).send().await;
        latency.record(start.elapsed());
        requests.increment();
        match result {
            Ok(resp) => {
                let status = resp.status();
                status_gauge.set(f64::from(status.as_u16()));
                if !status.is_success() {
                    failures.increment();
                }
                Ok(Some(status.as_u16()))
            }
            Err(e) => {
                status_gauge.set(0.0);
                failures.increment();
                let error = redact::error_text(e, &self.url, &self.shown);
                tracing::warn!(target: "perfect21_monitor::probe", url = %self.shown, %error, "probe failed");
                Ok(None)
            }
        }
    }

    /// Runs the probe every interval on the current tokio runtime until
    /// the returned handle is stopped.
    pub fn spawn(self) -> HttpProbeHandle {
        let (tx, mut rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(self.interval);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    biased;
                    _ = rx.changed() => break,
                    _ = ticker.tick() => { let _ = self.check().await; }
                }
            }
        });
        HttpProbeHandle { stop: tx, task }
    }
}

impl HttpProbeBuilder {
    /// Time between two probes (1 ms to 1 day).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Timeout of one GET (1 ms to 10 min).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the probe, refusing out-of-range options.
    pub fn build(self) -> Result<HttpProbe, MonitorError> {
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| invalid("url", format!("must be an absolute http(s) URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("url", "must use http or https"));
        }
        if self.interval < Duration::from_millis(1) || self.interval > Duration::from_secs(86_400) {
            return Err(invalid("interval", "must be 1 ms..=1 day"));
        }
        if self.timeout < Duration::from_millis(1) || self.timeout > Duration::from_secs(600) {
            return Err(invalid("timeout", "must be 1 ms..=10 min"));
        }
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .build()
            .map_err(|e| invalid("url", format!("HTTP client: {e}")))?;
        Ok(HttpProbe {
            client,
            shown: redact::without_secrets(&url),
            url,
            interval: self.interval,
            registry: self.registry,
        })
    }
}

/// A running [`HttpProbe`].
#[derive(Debug)]
pub struct HttpProbeHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl HttpProbeHandle {
    /// Stops the probe and waits for its task.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
