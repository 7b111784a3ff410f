//! `WebhookSink`: POSTs a Slack-compatible JSON payload.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{StatusCode, Url};
use serde_json::json;

use crate::alert::{AlertEvent, AlertState, Severity};
use crate::error::{MonitorError, SinkError, invalid};
use crate::redact;
use crate::sink::AlertSink;

/// POSTs each alert as Slack-compatible JSON (`text` plus one attachment
/// with a colour and the event's fields) to a webhook URL, with a timeout
/// per attempt and a bounded number of retries (exponential back-off from
/// `retry_backoff`). A transport error, a timeout, a 5xx answer, 408
/// (request timeout) or 429 (too many requests) is retried; any other 4xx
/// is returned at once, since sending the same request again cannot help.
/// The last error is returned (and counted by the monitor).
///
/// The URL is a secret (a Slack-style hook's path is its token): `Debug`,
/// error texts and logs show only its scheme, host and port.
///
/// Built on `reqwest` without TLS: for an `https://` URL enable a TLS
/// feature of `reqwest` in your own manifest.
#[derive(Clone)]
pub struct WebhookSink {
    client: reqwest::Client,
    url: Url,
    /// The URL as shown: scheme, host and port.
    shown: String,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
}

impl fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSink")
            .field("url", &self.shown)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

/// Builder for a [`WebhookSink`].
#[derive(Clone)]
pub struct WebhookSinkBuilder {
    url: String,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
}

impl fmt::Debug for WebhookSinkBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSinkBuilder")
            .field("url", &redact::unparsed(&self.url))
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl WebhookSink {
    /// A builder for a sink posting to `url`. Defaults: 5 s timeout,
    /// 2 retries, 200 ms initial back-off.
    pub fn builder(url: impl Into<String>) -> WebhookSinkBuilder {
        WebhookSinkBuilder {
            url: url.into(),
            timeout: Duration::from_secs(5),
            retries: 2,
            backoff: Duration::from_millis(200),
        }
    }

    /// The JSON body posted for `event`.
    pub fn payload(event: &AlertEvent) -> serde_json::Value {
        let color = match (event.state, event.severity) {
            (AlertState::Resolved, _) => "good",
            (_, Severity::Warning) => "warning",
            (_, Severity::Critical) => "danger",
        };
        json!({
            "text": event.message(),
            "attachments": [{
                "color": color,
                "title": event.rule,
                "fields": [
                    {"title": "Series", "value": event.series.to_string(), "short": true},
                    {"title": "Value", "value": format!("{:.3}", event.value), "short": true},
                    {"title": "Threshold", "value": format!("{}", event.threshold), "short": true},
                    {"title": "State", "value": format!("{:?}", event.state), "short": true},
                ],
                "ts": event.timestamp as u64,
            }],
            "event": event,
        })
    }
}

impl WebhookSinkBuilder {
    /// Timeout of one attempt (connect + answer); 1 ms to 10 min.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Attempts after the first one fails (0–10).
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Wait before the first retry, doubled for each next one (1 ms to
    /// 1 min).
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// Builds the sink, refusing out-of-range options.
    pub fn build(self) -> Result<WebhookSink, MonitorError> {
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| invalid("url", format!("must be an absolute http(s) URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("url", "must use http or https"));
        }
        if self.timeout < Duration::from_millis(1) || self.timeout > Duration::from_secs(600) {
            return Err(invalid("timeout", "must be 1 ms..=10 min"));
        }
        if self.retries > 10 {
            return Err(invalid(
                "retries",
                format!("must be 0..=10, got {}", self.retries),
            ));
        }
        if self.backoff < Duration::from_millis(1) || self.backoff > Duration::from_secs(60) {
            return Err(invalid(
                "retry_backoff",
                format!("must be 1 ms..=1 min, got {:?}", self.backoff),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .build()
            .map_err(|e| invalid("url", format!("HTTP client: {e}")))?;
        Ok(WebhookSink {
            client,
            shown: redact::origin(&url),
            url,
            timeout: self.timeout,
            retries: self.retries,
            backoff: self.backoff,
        })
    }
}

/// A transport error as a [`SinkError`], its text free of the URL.
fn classify(e: reqwest::Error, timeout: Duration, url: &Url, shown: &str) -> SinkError {
    if e.is_timeout() {
        SinkError::Timeout(timeout)
    } else {
        SinkError::Transport(redact::error_text(e, url, shown))
    }
}

/// Whether an answer with this status is worth sending again: server
/// errors, 408 and 429 are; the other client errors say the request itself
/// is wrong.
fn retryable(status: StatusCode) -> bool {
    !status.is_client_error()
        || matches!(
            status,
            StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS
        )
}

#[async_trait]
impl AlertSink for WebhookSink {
    fn name(&self) -> &str {
        "webhook"
    }

    async fn send(&self, event: &AlertEvent) -> Result<(), SinkError> {
        let body = Self::payload(event);
        let mut backoff = self.backoff;
        let mut attempt = 0;
        loop {
            let result = self.client.post(self.url.clone()).json(&body).send().await;
            let err = match result {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                Ok(resp) if !retryable(resp.status()) => {
                    return Err(SinkError::Status(resp.status().as_u16()));
                }
                Ok(resp) => SinkError::Status(resp.status().as_u16()),
                Err(e) => classify(e, self.timeout, &self.url, &self.shown),
            };
            if attempt >= self.retries {
                return Err(err);
            }
            attempt += 1;
            tracing::debug!(target: "perfect21_monitor::sink", url = %self.shown, error = %err, attempt, "webhook attempt failed; retrying");
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
    }
}
