//! [`Pool`]: a resource pool (connections, say) with a maximum size, an
//! acquire timeout, and a health check when a resource comes back.

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::group::BoxError;
use crate::scope::fail_after;
use crate::sync::{OwnedSemaphorePermit, Semaphore};

type Create<R> =
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<R, BoxError>> + Send>> + Send + Sync;
type Check<R> = dyn Fn(&mut R) -> bool + Send + Sync;

/// A pool of at most `max_size` resources made by an async `create`
/// function. [`acquire`](Self::acquire) hands out an idle resource or makes
/// a new one, waiting (up to the acquire timeout) while `max_size` are out;
/// a resource goes back to the pool when its [`Pooled`] guard drops, if the
/// health check passes — otherwise it is dropped and its place freed.
/// Waiters are served in FIFO order. Clones share the pool.
///
/// ```
/// use std::time::Duration;
/// use keen::patterns::Pool;
///
/// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let pool = Pool::builder(2, || async { Ok::<_, std::io::Error>(Vec::<u8>::new()) })
///         .acquire_timeout(Duration::from_millis(50))
///         .health_check(|conn| conn.len() < 4) // too much buffered: drop it
///         .build();
///     let mut a = pool.acquire().await.unwrap();
///     let _b = pool.acquire().await.unwrap();
///     assert!(pool.acquire().await.is_err()); // both out: times out after 50 ms
///     a.extend_from_slice(b"abcdef");
///     drop(a); // unhealthy: not returned
///     assert_eq!(pool.idle(), 0);
/// });
/// ```
pub struct Pool<R> {
    inner: Arc<Inner<R>>,
}

struct Inner<R> {
    idle: Mutex<Vec<R>>,
    /// One permit per resource that may exist (idle or out).
    slots: Arc<Semaphore>,
    create: Box<Create<R>>,
    healthy: Box<Check<R>>,
    acquire_timeout: Duration,
    max_size: usize,
}

/// Builds a [`Pool`]; see [`Pool::builder`].
pub struct PoolBuilder<R> {
    max_size: usize,
    create: Box<Create<R>>,
    healthy: Box<Check<R>>,
    acquire_timeout: Duration,
}

/// Why [`Pool::acquire`] failed.
#[derive(Debug)]
pub enum PoolError {
    /// No resource became free within the acquire timeout.
    Timeout,
    /// Making a new resource failed.
    Create(BoxError),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Timeout => f.write_str("no pooled resource became free in time"),
            PoolError::Create(e) => write!(f, "creating a pooled resource failed: {e}"),
        }
    }
}

impl std::error::Error for PoolError {}

impl<R: Send + 'static> Pool<R> {
    /// A builder for a pool of at most `max_size` resources made by
    /// `create`. Defaults: acquire timeout 30 s, every resource healthy.
    ///
    /// # Panics
    /// If `max_size` is 0.
    pub fn builder<F, Fut, E>(max_size: usize, create: F) -> PoolBuilder<R>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        assert!(max_size > 0, "a Pool needs a max_size of at least 1");
        PoolBuilder {
            max_size,
            create: Box::new(move || {
                let made = create();
                Box::pin(async move { made.await.map_err(Into::into) })
            }),
            healthy: Box::new(|_| true),
            acquire_timeout: Duration::from_secs(30),
        }
    }

    /// An idle resource, or a new one if fewer than `max_size` exist;
    /// waits (FIFO) up to the acquire timeout otherwise.
    pub async fn acquire(&self) -> Result<Pooled<R>, PoolError> {
        let slot = fail_after(
            self.inner.acquire_timeout,
            self.inner.slots.clone().acquire_owned(),
        )
        .await
        .map_err(|_| PoolError::Timeout)?
        .expect("the pool's semaphore is never closed");
        let idle = self.inner.idle.lock().pop();
        let resource = match idle {
            Some(resource) => resource,
            // On failure the permit drops with `slot`: the place is free.
            None => (self.inner.create)().await.map_err(PoolError::Create)?,
        };
        Ok(Pooled {
            resource: Some(resource),
            pool: self.inner.clone(),
            _slot: slot,
        })
    }

    /// Idle resources right now.
    pub fn idle(&self) -> usize {
        self.inner.idle.lock().len()
    }

    /// The maximum number of resources.
    pub fn max_size(&self) -> usize {
        self.inner.max_size
    }
}

impl<R> Clone for Pool<R> {
    fn clone(&self) -> Pool<R> {
        Pool {
            inner: self.inner.clone(),
        }
    }
}

impl<R> fmt::Debug for Pool<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("max_size", &self.inner.max_size)
            .field("idle", &self.inner.idle.lock().len())
            .finish()
    }
}

impl<R: Send + 'static> PoolBuilder<R> {
    /// How long [`Pool::acquire`] waits for a free place.
    pub fn acquire_timeout(mut self, timeout: Duration) -> PoolBuilder<R> {
        self.acquire_timeout = timeout;
        self
    }

    /// Checks a resource as it comes back; `false` drops it instead.
    pub fn health_check(
        mut self,
        check: impl Fn(&mut R) -> bool + Send + Sync + 'static,
    ) -> PoolBuilder<R> {
        self.healthy = Box::new(check);
        self
    }

    /// The pool.
    pub fn build(self) -> Pool<R> {
        Pool {
            inner: Arc::new(Inner {
                idle: Mutex::new(Vec::with_capacity(self.max_size)),
                slots: Arc::new(Semaphore::new(self.max_size)),
                create: self.create,
                healthy: self.healthy,
                acquire_timeout: self.acquire_timeout,
                max_size: self.max_size,
            }),
        }
    }
}

impl<R> fmt::Debug for PoolBuilder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("max_size", &self.max_size)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish_non_exhaustive()
    }
}

/// A resource out of a [`Pool`]; derefs to it. Dropping it returns the
/// resource if it passes the health check.
pub struct Pooled<R> {
    resource: Option<R>,
    pool: Arc<Inner<R>>,
    // Dropped after the resource is back in the idle list (field order).
    _slot: OwnedSemaphorePermit,
}

impl<R> Pooled<R> {
    /// Drops the resource instead of returning it (it is known broken).
    pub fn discard(mut self) {
        self.resource = None;
    }
}

impl<R> Deref for Pooled<R> {
    type Target = R;

    fn deref(&self) -> &R {
        self.resource.as_ref().expect("present until dropped")
    }
}

impl<R> DerefMut for Pooled<R> {
    fn deref_mut(&mut self) -> &mut R {
        self.resource.as_mut().expect("present until dropped")
    }
}

impl<R> Drop for Pooled<R> {
    fn drop(&mut self) {
        if let Some(mut resource) = self.resource.take() {
            if (self.pool.healthy)(&mut resource) {
                self.pool.idle.lock().push(resource);
            }
        }
    }
}

impl<R: fmt::Debug> fmt::Debug for Pooled<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pooled").field(&self.resource).finish()
    }
}
