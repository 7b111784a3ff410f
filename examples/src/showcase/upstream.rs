//! Calls to the upstream replicas: perfect21-balancer picks the replica
//! (peak-EWMA, outlier ejection), a pooled reqwest client (idle-pool limit,
//! connect and request timeouts) makes the call, and a semaphore bounds how
//! many calls are in flight.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use perfect21_balancer::{Balancer, PeakEwma};
use tokio::sync::Semaphore;

/// The upstream side of the showcase.
#[derive(Debug)]
pub struct Upstreams {
    /// Base URLs, balanced.
    pub balancer: Option<Balancer<String>>,
    client: reqwest::Client,
    limit: Semaphore,
}

impl Upstreams {
    /// Balances over `urls` (none: the upstream calls are skipped).
    pub fn new(urls: &[String]) -> Result<Self> {
        let balancer = if urls.is_empty() {
            None
        } else {
            Some(
                Balancer::builder()
                    .strategy(PeakEwma::new())
                    .endpoints(urls.iter().cloned())
                    .consecutive_failures(5)
                    .base_ejection_time(Duration::from_secs(5))
                    .build()
                    .map_err(|e| anyhow!("upstream balancer: {e}"))?,
            )
        };
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(32)
            .pool_idle_timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_millis(500))
            .timeout(Duration::from_secs(2))
            .tcp_nodelay(true)
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            balancer,
            client,
            limit: Semaphore::new(64),
        })
    }

    /// `GET {replica}/item/{id}`, the body as it came; `None` without upstreams.
    pub async fn item(&self, id: i64) -> Result<Option<Bytes>> {
        let Some(balancer) = &self.balancer else {
            return Ok(None);
        };
        let _permit = self
            .limit
            .acquire()
            .await
            .context("upstream limiter closed")?;
        let guard = balancer.pick().map_err(|e| anyhow!("{e}"))?;
        let url = format!("{}/item/{id}", *guard);
        let outcome = async {
            let response = self.client.get(&url).send().await?;
            if !response.status().is_success() {
                bail!("{url} answered {}", response.status());
            }
            Ok(response.bytes().await?)
        }
        .await;
        match outcome {
            Ok(body) => {
                guard.success();
                Ok(Some(body))
            }
            Err(e) => {
                guard.failure();
                Err(e)
            }
        }
    }
}
