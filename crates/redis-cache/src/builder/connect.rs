//! `build()`: connecting, after the options are validated.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::RedisCacheBuilder;
use crate::cache::{Inner, RedisCache};
use crate::codec::{Codec, Framing};
use crate::error::{CacheError, Result};
use crate::redact::Redactor;

impl<C: Codec> RedisCacheBuilder<C> {
    /// A client for `url`, with the TLS root when one was given.
    fn client(&self, url: &str) -> redis::RedisResult<redis::Client> {
        #[cfg(feature = "tls")]
        {
            install_crypto_provider();
            if let Some(pem) = &self.tls_root_cert {
                return redis::Client::build_with_tls(
                    url,
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(pem.clone()),
                    },
                );
            }
        }
        redis::Client::open(url)
    }

    /// The cache's state over `backend`, from the validated options.
    fn inner(
        self,
        backend: crate::backend::Backend,
        redactor: Redactor,
        namespace: String,
    ) -> Inner<C> {
        let mut inner = Inner::new(
            backend,
            redactor,
            namespace,
            self.default_ttl,
            self.codec,
            Framing {
                compress_above: self.compress_above,
                max_value_size: self.max_value_size,
                bounded_reads: self.bounded_reads,
                compression: self.compression,
            },
            self.command_timeout,
            self.fail_open,
            self.delete_corrupt,
            self.scan_count,
        );
        inner.stale_grace = self.stale_grace;
        inner.early = self.early;
        inner
    }

    /// Validates the options and connects.
    pub async fn build(mut self) -> Result<RedisCache<C>> {
        let namespace = self
            .namespace
            .take()
            .ok_or_else(|| CacheError::config("namespace", "is required"))?;
        self.validate(&namespace)?;
        #[cfg(feature = "cluster")]
        if let Some(urls) = self.cluster_urls.take() {
            return self.build_cluster(urls, namespace).await;
        }
        if let Some(pool) = self.pool.take() {
            if self.url.is_some() || self.connection.is_some() {
                return Err(CacheError::config(
                    "pool",
                    "give one of `url`, `connection`, `deadpool`/`bb8`, not several",
                ));
            }
            #[cfg(feature = "local")]
            if self.local.is_some() {
                return Err(CacheError::config(
                    "local_tier",
                    "needs `url`: it opens its own tracking connection",
                ));
            }
            let mut inner = self.inner(pool, Redactor::new(""), namespace);
            inner.wrap_timeout = true;
            return Ok(RedisCache::from_inner(inner));
        }
        let mut url_client = None;
        let (connection, redactor) = match (self.url.take(), self.connection.take()) {
            (Some(_), Some(_)) => {
                return Err(CacheError::config(
                    "url",
                    "give either `url` or `connection`, not both",
                ));
            }
            (None, None) => {
                return Err(CacheError::config("url", "is required (or `connection`)"));
            }
            (None, Some(connection)) => (connection, Redactor::new("")),
            (Some(url), None) => {
                let redactor = Redactor::new(&url);
                let client = self
                    .client(&url)
                    .map_err(|e| CacheError::config("url", redactor.scrub(&e.to_string())))?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.connect_timeout))
                    .set_response_timeout(Some(self.command_timeout))
                    .set_number_of_retries(2)
                    .set_max_delay(Duration::from_millis(500));
                url_client = Some(client.clone());
                let connection = if self.fail_open {
                    ConnectionManager::new_lazy_with_config(client, config)
                } else {
                    ConnectionManager::new_with_config(client, config).await
                }
                .map_err(|e| CacheError::Redis(redactor.scrub(&e.to_string())))?;
                (connection, redactor)
            }
        };
        #[cfg(feature = "local")]
        let (local_namespace, local_redactor, local_options, timeouts, fail_open) = (
            namespace.clone(),
            redactor.clone(),
            self.local,
            (self.connect_timeout, self.command_timeout),
            self.fail_open,
        );
        let mut inner = self.inner(
            crate::backend::Backend::Manager(connection),
            redactor,
            namespace,
        );
        // Built from the URL, the connection's response timeout is the
        // command timeout already.
        inner.wrap_timeout = url_client.is_none();
        #[cfg(feature = "local")]
        if let (Some(options), Some(client)) = (local_options, url_client.take()) {
            let local =
                crate::local::Local::start(&client, &local_namespace, options, timeouts, fail_open)
                    .await
                    .map_err(|e| CacheError::Redis(local_redactor.scrub(&e.to_string())))?;
            inner.local = Some(local);
        }
        let _ = url_client;
        Ok(RedisCache::from_inner(inner))
    }
}

#[cfg(feature = "cluster")]
impl<C: Codec> RedisCacheBuilder<C> {
    async fn build_cluster(self, urls: Vec<String>, namespace: String) -> Result<RedisCache<C>> {
        if self.url.is_some() || self.connection.is_some() || self.pool.is_some() {
            return Err(CacheError::config(
                "cluster_urls",
                "give either `cluster_urls` or `url`/`connection`/a pool, not both",
            ));
        }
        if urls.is_empty() {
            return Err(CacheError::config(
                "cluster_urls",
                "needs at least one node URL",
            ));
        }
        #[cfg(feature = "local")]
        if self.local.is_some() {
            return Err(CacheError::config(
                "local_tier",
                "is not available on a cluster (its tracking connection is per server)",
            ));
        }
        let redactor = Redactor::many(&urls);
        let builder = redis::cluster::ClusterClient::builder(urls);
        #[cfg(feature = "tls")]
        let builder = {
            install_crypto_provider();
            match &self.tls_root_cert {
                Some(pem) => builder.certs(redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                }),
                None => builder,
            }
        };
        let client = builder
            .connection_timeout(self.connect_timeout)
            .response_timeout(self.command_timeout)
            .retries(2)
            .build()
            .map_err(|e| CacheError::config("cluster_urls", redactor.scrub(&e.to_string())))?;
        let connection = client
            .get_async_connection()
            .await
            .map_err(|e| CacheError::Redis(redactor.scrub(&e.to_string())))?;
        let mut inner = self.inner(
            crate::backend::Backend::Cluster(connection),
            redactor,
            namespace,
        );
        // The cluster connection's response timeout bounds every command.
        inner.wrap_timeout = false;
        Ok(RedisCache::from_inner(inner))
    }
}

/// rustls needs a process-wide crypto provider: ring, unless the
/// application installed one already.
#[cfg(feature = "tls")]
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
