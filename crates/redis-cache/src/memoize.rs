//! `memoize`: an async function made into a cached one.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::RedisCache;
use crate::codec::Codec;
use crate::error::Result;
use crate::keys::KeyBuilder;

/// An async function whose results are cached under a key built from its
/// name and the [`stable_hash`](crate::stable_hash) of its arguments, with
/// the single-flight of [`RedisCache::get_or_set`]. Made by
/// [`RedisCache::memoize`].
pub struct Memoized<F, C: Codec> {
    cache: RedisCache<C>,
    name: String,
    ttl: Option<Duration>,
    function: F,
}

impl<F, C: Codec> std::fmt::Debug for Memoized<F, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memoized")
            .field("name", &self.name)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl<C: Codec> RedisCache<C> {
    /// Wraps `function` so that calls with equal arguments within `ttl`
    /// (`None`: the default TTL) run it once. Keys are
    /// `fn:{name}:{stable_hash(canonical JSON of the arguments)}` in this
    /// namespace (object keys sorted, so `HashMap` arguments hash alike);
    /// change `name` (e.g. add a version) when the result's shape changes.
    pub fn memoize<F>(
        &self,
        name: impl Into<String>,
        ttl: Option<Duration>,
        function: F,
    ) -> Memoized<F, C> {
        Memoized {
            cache: self.clone(),
            name: name.into(),
            ttl,
            function,
        }
    }
}

impl<F, C: Codec> Memoized<F, C> {
    /// The cache key for `args`.
    pub fn key_for<A: Serialize + ?Sized>(&self, args: &A) -> Result<String> {
        Ok(KeyBuilder::new()
            .part("fn")
            .part(&self.name)
            .hashed(args)?
            .build())
    }

    /// Calls the function through the cache.
    pub async fn call<A, T, Fut, E>(&self, args: A) -> Result<T>
    where
        F: Fn(A) -> Fut + Clone + Send + 'static,
        A: Serialize + Send + 'static,
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<T, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let key = self.key_for(&args)?;
        let function = self.function.clone();
        self.cache
            .get_or_set(&key, self.ttl, move || function(args))
            .await
    }
}
