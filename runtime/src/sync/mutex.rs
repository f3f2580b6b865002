//! [`Mutex`]: an async mutex with FIFO hand-off, its guards
//! ([`MutexGuard`], [`OwnedMutexGuard`]) and [`TryLockError`].
//!
//! The lock is a one-permit [`RawSemaphore`]: unlocking with tasks queued
//! hands the lock to the first of them directly, so the lock is never free
//! in between and nobody barges in. The data sits in an `UnsafeCell`; the
//! single permit is what makes access through a guard exclusive.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::raw_semaphore::RawSemaphore;
use super::thread_wait;
use crate::loom::const_fn_unless_loom;

/// An async mutual-exclusion lock whose waiters get the lock in arrival
/// order (fair: an unlock hands it to the first waiter).
///
/// Names and meaning follow `tokio::sync::Mutex`. The guard may be held
/// across `.await`; it is `Send` when `T` is. Dropping a waiting
/// [`lock`](Mutex::lock) future loses nothing: if the lock was already
/// handed to it, it goes to the next waiter.
///
/// ```
/// use std::sync::Arc;
/// use keen::sync::Mutex;
///
/// keen::block_on(async {
///     let count = Arc::new(Mutex::new(0));
///     let tasks: Vec<_> = (0..10)
///         .map(|_| {
///             let count = count.clone();
///             keen::spawn(async move {
///                 let mut n = count.lock().await;
///                 keen::task::yield_now().await; // held across an await
///                 *n += 1;
///             })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(*count.lock().await, 10);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    lock: RawSemaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, and the guard exists only
// while its holder owns the one permit, so at most one thread touches `T` at a
// time; `T: Send` is what moving that access between threads requires (as for
// `std::sync::Mutex`).
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Error of [`Mutex::try_lock`] and of the `try_` forms of
/// [`RwLock`](super::RwLock) (one type for both, as in tokio): the lock is
/// held or promised to a waiter.
///
/// ```
/// let m = keen::sync::Mutex::new(());
/// let _g = m.try_lock().unwrap();
/// assert_eq!(m.try_lock().unwrap_err().to_string(), "lock is held or promised to a waiter");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(pub(super) ());

impl<T> Mutex<T> {
    const_fn_unless_loom! {
        /// An unlocked mutex holding `value`; usable in a `static`.
        ///
        /// ```
        /// static NAMES: keen::sync::Mutex<Vec<String>> = keen::sync::Mutex::new(Vec::new());
        /// assert!(NAMES.try_lock().unwrap().is_empty());
        /// ```
        pub const fn new(value: T) -> Mutex<T> {
            Mutex {
                lock: RawSemaphore::new(1),
                data: UnsafeCell::new(value),
            }
        }
    }

    /// The data, consuming the mutex.
    ///
    /// ```
    /// assert_eq!(keen::sync::Mutex::new(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock, in FIFO order with other waiters.
    ///
    /// Cancel-safe: dropping the future leaves the queue, and a lock handed
    /// to it meanwhile passes to the next waiter.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let m = keen::sync::Mutex::new(1);
    ///     *m.lock().await += 1;
    ///     assert_eq!(*m.lock().await, 2);
    /// });
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        match self.lock.acquire(1).await {
            Ok(()) => MutexGuard {
                mutex: self,
                _not_sync: PhantomData,
            },
            Err(_) => unreachable!("a mutex's semaphore is never closed"),
        }
    }

    /// Takes the lock if it is free and nobody is queued for it.
    ///
    /// ```
    /// let m = keen::sync::Mutex::new(1);
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(g);
    /// assert!(m.try_lock().is_ok());
    /// ```
    ///
    /// # Errors
    /// [`TryLockError`] if the lock is held or promised to a waiter.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.lock.try_acquire(1) {
            Ok(()) => Ok(MutexGuard {
                mutex: self,
                _not_sync: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Blocks this thread until it holds the lock, for code outside async
    /// context (a plain thread, `spawn_blocking`). Waits in the same FIFO
    /// queue as [`lock`](Self::lock).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(keen::sync::Mutex::new(0));
    /// let m2 = m.clone();
    /// std::thread::spawn(move || *m2.blocking_lock() += 1).join().unwrap();
    /// assert_eq!(*m.blocking_lock(), 1);
    /// ```
    ///
    /// # Panics
    /// When called inside a keen task or `block_on` (it would stall a
    /// runtime thread). Inside another runtime it cannot tell: don't.
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        thread_wait::block_on("Mutex::blocking_lock", self.lock())
    }

    /// [`lock`](Self::lock) for an `Arc<Mutex>`: the guard owns the `Arc`,
    /// so it is `'static` and can move into a spawned task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// keen::block_on(async {
    ///     let m = Arc::new(keen::sync::Mutex::new(0));
    ///     let mut guard = m.clone().lock_owned().await;
    ///     keen::spawn(async move { *guard += 1 }).await.unwrap();
    ///     assert_eq!(*m.lock().await, 1);
    /// });
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        match self.lock.acquire(1).await {
            Ok(()) => OwnedMutexGuard {
                mutex: self,
                _not_sync: PhantomData,
            },
            Err(_) => unreachable!("a mutex's semaphore is never closed"),
        }
    }

    /// [`try_lock`](Self::try_lock) for an `Arc<Mutex>`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(keen::sync::Mutex::new(1));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(g);
    /// ```
    ///
    /// # Errors
    /// [`TryLockError`] if the lock is held or promised to a waiter.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.lock.try_acquire(1) {
            Ok(()) => Ok(OwnedMutexGuard {
                mutex: self,
                _not_sync: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// The data, through `&mut self`: no locking needed.
    ///
    /// ```
    /// let mut m = keen::sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    fn unlock(&self) {
        self.lock.release(1);
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Exclusive access to a [`Mutex`]'s data; unlocks when dropped, handing
/// the lock to the first waiter if there is one.
///
/// ```
/// keen::block_on(async {
///     let m = keen::sync::Mutex::new(String::from("a"));
///     let mut guard = m.lock().await;
///     guard.push('b');
///     drop(guard);
///     assert_eq!(*m.lock().await, "ab");
/// });
/// ```
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    // `&mut T` gives the guard `T`'s own Sync: sharing the guard shares `&T`.
    _not_sync: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let m = keen::sync::Mutex::new(0);
    ///     let guard = m.lock().await;
    ///     assert!(std::ptr::eq(keen::sync::MutexGuard::mutex(&guard), &m));
    /// });
    /// ```
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit (see `Mutex`), so
        // no other reference to the data exists while it lives.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this reference unique.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A [`MutexGuard`] that owns an `Arc` of its mutex (from
/// [`Mutex::lock_owned`]); `'static`, so it can move into a spawned task.
///
/// ```
/// use std::sync::Arc;
/// keen::block_on(async {
///     let m = Arc::new(keen::sync::Mutex::new(vec![1]));
///     let mut guard = m.clone().lock_owned().await;
///     guard.push(2);
///     assert!(Arc::ptr_eq(guard.mutex(), &m));
/// });
/// ```
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    mutex: Arc<Mutex<T>>,
    // `Box<T>` gives the guard `T`'s own Sync: sharing the guard shares `&T`.
    _not_sync: PhantomData<Box<T>>,
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(keen::sync::Mutex::new(()));
    /// let guard = m.clone().try_lock_owned().unwrap();
    /// assert!(Arc::ptr_eq(guard.mutex(), &m));
    /// ```
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.mutex
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit (see `Mutex`), so
        // no other reference to the data exists while it lives.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this reference unique.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lock is held or promised to a waiter")
    }
}

impl std::error::Error for TryLockError {}

/// Compile-time checks that the types are `Send`/`Sync` exactly as tokio's.
#[allow(dead_code, reason = "compile-time check only")]
fn _ensure_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Mutex<Vec<u8>>>();
    send_sync::<MutexGuard<'static, Vec<u8>>>();
    send_sync::<OwnedMutexGuard<Vec<u8>>>();
    send_sync::<Mutex<std::cell::Cell<u8>>>();
    send::<MutexGuard<'static, std::cell::Cell<u8>>>();
    send::<OwnedMutexGuard<std::cell::Cell<u8>>>();
}
