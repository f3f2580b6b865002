//! [`Semaphore`]: a fair (FIFO) counting semaphore, with borrowed
//! ([`SemaphorePermit`]) and `Arc`-owned ([`OwnedSemaphorePermit`]) permits
//! that return themselves when dropped, and its error types.

use std::fmt;
use std::sync::Arc;

use super::raw_semaphore::{self, RawSemaphore, TryAcquire};
use crate::loom::const_fn_unless_loom;

/// A counting semaphore whose waiters are served strictly in arrival order.
///
/// Names and meaning follow `tokio::sync::Semaphore`. A released permit is
/// handed straight to the first waiter, so a later [`try_acquire`] cannot
/// overtake it, and a request for many permits at the front holds back
/// smaller ones behind it. Dropping a waiting [`acquire`] future loses no
/// permit: permits already handed to it go to the next waiter.
///
/// [`acquire`]: Semaphore::acquire
/// [`try_acquire`]: Semaphore::try_acquire
///
/// ```
/// use std::sync::Arc;
/// use keen::sync::Semaphore;
///
/// keen::block_on(async {
///     let sem = Arc::new(Semaphore::new(2));
///     let a = sem.acquire().await.unwrap();
///     let _b = sem.acquire().await.unwrap();
///     assert!(sem.try_acquire().is_err());
///     drop(a); // the permit goes back
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
pub struct Semaphore {
    raw: RawSemaphore,
}

/// Error of a waiting acquire: the semaphore was closed.
///
/// ```
/// keen::block_on(async {
///     let sem = keen::sync::Semaphore::new(0);
///     sem.close();
///     let err = sem.acquire().await.unwrap_err();
///     assert_eq!(err.to_string(), "semaphore closed");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

/// Error of [`Semaphore::try_acquire`] and friends.
///
/// ```
/// use keen::sync::{Semaphore, TryAcquireError};
/// let sem = Semaphore::new(0);
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// sem.close();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Too few free permits, or waiters are queued ahead.
    NoPermits,
}

impl Semaphore {
    /// Most permits a semaphore can hold.
    ///
    /// ```
    /// assert!(keen::sync::Semaphore::MAX_PERMITS >= u32::MAX as usize);
    /// ```
    pub const MAX_PERMITS: usize = raw_semaphore::MAX_PERMITS;

    const_fn_unless_loom! {
        /// A semaphore with `permits` free permits; usable in a `static`.
        ///
        /// ```
        /// static LIMIT: keen::sync::Semaphore = keen::sync::Semaphore::new(4);
        /// assert_eq!(LIMIT.available_permits(), 4);
        /// ```
        ///
        /// # Panics
        /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
        pub const fn new(permits: usize) -> Semaphore {
            Semaphore {
                raw: RawSemaphore::new(permits),
            }
        }
    }

    /// Free permits right now.
    ///
    /// ```
    /// let sem = keen::sync::Semaphore::new(3);
    /// let _p = sem.try_acquire_many(2).unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.raw.available()
    }

    /// Adds `n` permits, handing them to waiters first (in order).
    ///
    /// ```
    /// let sem = keen::sync::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    ///
    /// # Panics
    /// If the free permits would exceed [`MAX_PERMITS`](Self::MAX_PERMITS).
    pub fn add_permits(&self, n: usize) {
        self.raw.release(n);
    }

    /// Removes up to `n` free permits for good; returns how many it removed.
    ///
    /// ```
    /// let sem = keen::sync::Semaphore::new(3);
    /// assert_eq!(sem.forget_permits(5), 3);
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        self.raw.forget(n)
    }

    /// Waits for one permit.
    ///
    /// Cancel-safe: dropping the future gives up its place in the queue
    /// and passes on any permit already handed to it.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let sem = keen::sync::Semaphore::new(1);
    ///     let permit = sem.acquire().await.unwrap();
    ///     assert_eq!(permit.num_permits(), 1);
    /// });
    /// ```
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is or gets closed.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits, taken all at once.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let sem = keen::sync::Semaphore::new(5);
    ///     let permit = sem.acquire_many(3).await.unwrap();
    ///     assert_eq!(sem.available_permits(), 2);
    ///     drop(permit);
    ///     assert_eq!(sem.available_permits(), 5);
    /// });
    /// ```
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is or gets closed.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        match self.raw.acquire(n as usize).await {
            Ok(()) => Ok(SemaphorePermit {
                semaphore: self,
                permits: n,
            }),
            Err(raw_semaphore::Closed) => Err(AcquireError(())),
        }
    }

    /// Takes one permit if one is free and nobody waits.
    ///
    /// ```
    /// let sem = keen::sync::Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// drop(p);
    /// assert!(sem.try_acquire().is_ok());
    /// ```
    ///
    /// # Errors
    /// [`TryAcquireError`] says whether it was closed or short of permits.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody waits.
    ///
    /// ```
    /// let sem = keen::sync::Semaphore::new(2);
    /// assert!(sem.try_acquire_many(3).is_err());
    /// assert!(sem.try_acquire_many(2).is_ok());
    /// ```
    ///
    /// # Errors
    /// [`TryAcquireError`] says whether it was closed or short of permits.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.raw.try_acquire(n as usize).map_err(try_error)?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits: n,
        })
    }

    /// Waits for one permit that owns an `Arc` of the semaphore, so it can
    /// move into a spawned task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// keen::block_on(async {
    ///     let sem = Arc::new(keen::sync::Semaphore::new(1));
    ///     let permit = sem.clone().acquire_owned().await.unwrap();
    ///     let task = keen::spawn(async move {
    ///         let _held = permit; // released when the task ends
    ///     });
    ///     task.await.unwrap();
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is or gets closed.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Waits for `n` permits owning an `Arc` of the semaphore.
    ///
    /// ```
    /// use std::sync::Arc;
    /// keen::block_on(async {
    ///     let sem = Arc::new(keen::sync::Semaphore::new(4));
    ///     let permit = sem.clone().acquire_many_owned(4).await.unwrap();
    ///     assert_eq!(permit.num_permits(), 4);
    /// });
    /// ```
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is or gets closed.
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        match self.raw.acquire(n as usize).await {
            Ok(()) => Ok(OwnedSemaphorePermit {
                semaphore: self,
                permits: n,
            }),
            Err(raw_semaphore::Closed) => Err(AcquireError(())),
        }
    }

    /// [`try_acquire`](Self::try_acquire) with an owned permit.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(keen::sync::Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert_eq!(permit.semaphore().available_permits(), 0);
    /// ```
    ///
    /// # Errors
    /// [`TryAcquireError`] says whether it was closed or short of permits.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Self::try_acquire_many) with an owned permit.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(keen::sync::Semaphore::new(2));
    /// assert!(sem.clone().try_acquire_many_owned(2).is_ok());
    /// ```
    ///
    /// # Errors
    /// [`TryAcquireError`] says whether it was closed or short of permits.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.raw.try_acquire(n as usize).map_err(try_error)?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits: n,
        })
    }

    /// Closes the semaphore: every waiting and later acquire fails.
    /// Permits held now still come back when dropped.
    ///
    /// ```
    /// let sem = keen::sync::Semaphore::new(1);
    /// sem.close();
    /// assert!(sem.is_closed());
    /// assert!(sem.try_acquire().is_err());
    /// ```
    pub fn close(&self) {
        self.raw.close();
    }

    /// Whether [`close`](Self::close) was called.
    ///
    /// ```
    /// assert!(!keen::sync::Semaphore::new(1).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.raw.is_closed()
    }
}

fn try_error(err: TryAcquire) -> TryAcquireError {
    match err {
        TryAcquire::Closed => TryAcquireError::Closed,
        TryAcquire::NoPermits => TryAcquireError::NoPermits,
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.available_permits())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Permits borrowed from a [`Semaphore`]; dropping it returns them.
///
/// ```
/// let sem = keen::sync::Semaphore::new(1);
/// {
///     let _permit = sem.try_acquire().unwrap();
///     assert_eq!(sem.available_permits(), 0);
/// }
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: u32,
}

impl SemaphorePermit<'_> {
    /// How many permits this holds.
    ///
    /// ```
    /// let sem = keen::sync::Semaphore::new(3);
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }

    /// Drops the permits without returning them to the semaphore.
    ///
    /// ```
    /// let sem = keen::sync::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.raw.release(self.permits as usize);
    }
}

/// Permits held with an `Arc` of their [`Semaphore`]; dropping it returns
/// them. `'static`, so it can move into a spawned task.
///
/// ```
/// use std::sync::Arc;
/// let sem = Arc::new(keen::sync::Semaphore::new(1));
/// let permit = sem.clone().try_acquire_owned().unwrap();
/// std::thread::spawn(move || drop(permit)).join().unwrap();
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
#[derive(Debug)]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    permits: u32,
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(keen::sync::Semaphore::new(3));
    /// assert_eq!(sem.try_acquire_many_owned(3).unwrap().num_permits(), 3);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }

    /// The semaphore the permits belong to.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(keen::sync::Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(permit.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }

    /// Drops the permits without returning them to the semaphore.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(keen::sync::Semaphore::new(1));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.raw.release(self.permits as usize);
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryAcquireError::Closed => "semaphore closed",
            TryAcquireError::NoPermits => "no permits available",
        })
    }
}

impl std::error::Error for TryAcquireError {}
