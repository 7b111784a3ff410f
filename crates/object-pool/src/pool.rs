//! `ObjectPool`: the handle users hold, and its gets.

use std::sync::Arc;
use std::time::Duration;

use crate::Error;
use crate::builder::ObjectPoolBuilder;
use crate::core::Core;
use crate::guard::{Pooled, PooledOwned};
use crate::stats::Stats;

/// A pool of reusable objects made by a factory.
///
/// Cloning the handle is cheap and shares the pool. `get` hands out a
/// [`Pooled`] guard that borrows the pool, `get_owned` a [`PooledOwned`]
/// that keeps it alive; dropping either resets the object and keeps it for
/// the next get (up to `max_idle` idle objects). Each thread has a small
/// cache of idle objects in front of a shared stack, so a get and a return
/// on the same thread touch no lock and no contended memory.
///
/// Objects in a thread's cache are idle like any other: they count in
/// `stats().idle` and against `max_idle`. When a thread exits, its cached
/// objects move to the shared stack (nothing is lost). `trim` and
/// `idle_timeout` reach the caches of other live threads at those threads'
/// next operation.
pub struct ObjectPool<T: Send + 'static> {
    core: Arc<Core<T>>,
}

impl<T: Send + 'static> Clone for ObjectPool<T> {
    fn clone(&self) -> Self {
        Self {
            core: Arc::clone(&self.core),
        }
    }
}

impl<T: Send + 'static> std::fmt::Debug for ObjectPool<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectPool")
            .field("max_idle", &self.core.cfg.max_idle)
            .field("max_total", &self.core.cfg.max_total)
            .field("thread_cache", &self.core.cfg.thread_cache)
            .field("idle", &self.core.idle())
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> ObjectPool<T> {
    /// Starts a builder; `factory` makes a new object when none is idle.
    pub fn builder(factory: impl Fn() -> T + Send + Sync + 'static) -> ObjectPoolBuilder<T> {
        ObjectPoolBuilder::new(factory)
    }

    /// A pool with the default options and no hooks.
    pub fn new(factory: impl Fn() -> T + Send + Sync + 'static) -> Self {
        match Self::builder(factory).build() {
            Ok(pool) => pool,
            // The defaults are within every range `build` checks.
            Err(_) => unreachable!("the default options are valid"),
        }
    }

    pub(crate) fn from_core(core: Arc<Core<T>>) -> Self {
        Self { core }
    }

    #[cfg(all(test, perfect21_loom))]
    pub(crate) fn core(&self) -> &Arc<Core<T>> {
        &self.core
    }

    /// An idle object, or a new one from the factory. Fails only on a pool
    /// capped by `max_total` with every object in use
    /// ([`Error::Exhausted`]). A panicking factory panics here and leaves
    /// the pool as it was.
    #[inline(always)]
    pub fn get(&self) -> Result<Pooled<'_, T>, Error> {
        let entry = self.core.acquire(self.core.local())?;
        Ok(Pooled::new(&self.core, entry))
    }

    /// Like [`get`](Self::get), with a guard that owns a handle to the pool
    /// (`'static`; `Send` when `T` is).
    #[inline(always)]
    pub fn get_owned(&self) -> Result<PooledOwned<T>, Error> {
        let entry = self.core.acquire(self.core.local())?;
        Ok(PooledOwned::new(Arc::clone(&self.core), entry))
    }

    /// An idle object if there is one; never creates, never waits.
    pub fn try_get(&self) -> Option<Pooled<'_, T>> {
        let entry = self.core.acquire_idle(self.core.local())?;
        Some(Pooled::new(&self.core, entry))
    }

    /// Like [`try_get`](Self::try_get), with an owning guard.
    pub fn try_get_owned(&self) -> Option<PooledOwned<T>> {
        let entry = self.core.acquire_idle(self.core.local())?;
        Some(PooledOwned::new(Arc::clone(&self.core), entry))
    }

    /// Like [`get`](Self::get), but on an exhausted capped pool blocks the
    /// calling thread up to `timeout` for an object to come free
    /// ([`Error::Timeout`] after that). Waiters are served first come, first
    /// served. On an uncapped pool it is `get`.
    pub fn get_timeout(&self, timeout: Duration) -> Result<Pooled<'_, T>, Error> {
        let entry = self.core.acquire_timeout(timeout)?;
        Ok(Pooled::new(&self.core, entry))
    }

    /// Like [`get_timeout`](Self::get_timeout), with an owning guard.
    pub fn get_owned_timeout(&self, timeout: Duration) -> Result<PooledOwned<T>, Error> {
        let entry = self.core.acquire_timeout(timeout)?;
        Ok(PooledOwned::new(Arc::clone(&self.core), entry))
    }

    /// Like [`get`](Self::get), but on an exhausted capped pool waits
    /// without blocking the thread until an object comes free. Works on any
    /// executor; bound the wait with your runtime's timeout. Dropping the
    /// future gives up its turn.
    #[cfg(feature = "async")]
    pub async fn get_async(&self) -> Result<Pooled<'_, T>, Error> {
        let entry = crate::wait::AsyncAcquire::new(&*self.core).await?;
        Ok(Pooled::new(&self.core, entry))
    }

    /// Like [`get_async`](Self::get_async), with an owning guard; the future
    /// is `'static` and `Send`, so it can be spawned.
    #[cfg(feature = "async")]
    pub fn get_owned_async(
        &self,
    ) -> impl std::future::Future<Output = Result<PooledOwned<T>, Error>> + Send + 'static {
        let core = Arc::clone(&self.core);
        async move {
            let entry = crate::wait::AsyncAcquire::new(Arc::clone(&core)).await?;
            Ok(PooledOwned::new(core, entry))
        }
    }

    /// Drops idle objects, oldest first, until at most `keep` are idle. The
    /// calling thread's cache is flushed first and the shared stack trimmed
    /// at once; objects idle in another live thread's cache at the call that
    /// must go are dropped at that thread's next operation. A trim acts
    /// once, on what was idle when it was called: objects returned after it
    /// are never trimmed by it.
    pub fn trim(&self, keep: usize) {
        self.core.trim(keep, self.core.local());
    }

    /// A snapshot of the counters and gauges.
    pub fn stats(&self) -> Stats {
        self.core.stats()
    }

    /// Objects idle now, in the shared stack and in thread caches.
    pub fn idle(&self) -> usize {
        self.core.idle()
    }

    /// The most idle objects kept.
    pub fn max_idle(&self) -> usize {
        self.core.cfg.max_idle
    }

    /// The cap on live objects, if any.
    pub fn max_total(&self) -> Option<usize> {
        self.core.cfg.max_total
    }
}
