//! [`RwLock`]: an async reader-writer lock, fair and write-preferring as
//! tokio's. Its guards are in `guards.rs` (borrowed) and `owned.rs` (on an
//! `Arc`).
//!
//! The lock is a [`RawSemaphore`] holding `max_readers` permits: a reader
//! takes one, a writer takes all of them. The semaphore is FIFO and a large
//! request at the front of its queue holds back smaller ones behind it, so
//! a queued writer blocks every reader that comes after it (write
//! preference without starving readers: the readers queued before the
//! writer go first). Unlocking hands permits to the front waiters directly,
//! and the fast path (`try_acquire`) refuses to take permits while anyone
//! is queued, so nobody barges. The data sits in an `UnsafeCell`; the
//! permits are what make access through a guard shared or exclusive.

mod guards;
mod owned;

use std::cell::UnsafeCell;
use std::fmt;
use std::sync::Arc;

pub use guards::{RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard};
pub use owned::{OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard};

use super::TryLockError;
use super::raw_semaphore::RawSemaphore;
use super::thread_wait;
use crate::loom::const_fn_unless_loom;

/// Most readers an [`RwLock`] admits at once (as tokio's, `u32::MAX >> 3`).
const MAX_READS: u32 = u32::MAX >> 3;

/// An async reader-writer lock: any number of readers, or one writer.
///
/// Names and meaning follow `tokio::sync::RwLock`. It is fair: waiters are
/// served in arrival order, and a queued writer makes every later reader
/// wait behind it, so a stream of readers cannot starve a writer. Guards
/// may be held across `.await`. Dropping a waiting [`read`](RwLock::read)
/// or [`write`](RwLock::write) future loses nothing: what was already
/// handed to it goes to the next waiters.
///
/// ```
/// use std::sync::Arc;
/// use keen::sync::RwLock;
///
/// keen::block_on(async {
///     let config = Arc::new(RwLock::new(String::from("v1")));
///     let reader = keen::spawn({
///         let config = config.clone();
///         async move { config.read().await.len() }
///     });
///     assert_eq!(reader.await.unwrap(), 2);
///     config.write().await.push_str(".1");
///     assert_eq!(*config.read().await, "v1.1");
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    max_readers: u32,
    permits: RawSemaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through guards. A write guard holds every
// permit, so while it lives no other guard exists (`T: Send` is needed because
// `&mut T` lets a writer on another thread move values in and out); read guards
// hold one permit each and give out only `&T`, shared between threads
// (`T: Sync`). This is `std::sync::RwLock`'s bound.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    const_fn_unless_loom! {
        /// An unlocked lock holding `value`; usable in a `static`.
        ///
        /// ```
        /// static TABLE: keen::sync::RwLock<Vec<u32>> = keen::sync::RwLock::new(Vec::new());
        /// assert!(TABLE.try_read().unwrap().is_empty());
        /// ```
        pub const fn new(value: T) -> RwLock<T> {
            RwLock::const_with_max_readers(value, MAX_READS)
        }
    }

    const_fn_unless_loom! {
        /// The same as [`new`](Self::new) (tokio has a separate `const`
        /// constructor; here `new` is `const` already).
        ///
        /// ```
        /// static FLAG: keen::sync::RwLock<bool> = keen::sync::RwLock::const_new(false);
        /// assert!(!*FLAG.try_read().unwrap());
        /// ```
        pub const fn const_new(value: T) -> RwLock<T> {
            RwLock::const_with_max_readers(value, MAX_READS)
        }
    }

    /// An unlocked lock that admits at most `max_reads` readers at once.
    ///
    /// ```
    /// let lock = keen::sync::RwLock::with_max_readers(0, 1);
    /// let _r = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_err(), "one reader at most");
    /// ```
    ///
    /// # Panics
    /// If `max_reads` is 0 or more than `u32::MAX >> 3`.
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        RwLock::const_with_max_readers(value, max_reads)
    }

    const_fn_unless_loom! {
        /// [`with_max_readers`](Self::with_max_readers), usable in a
        /// `static`.
        ///
        /// ```
        /// static TWO: keen::sync::RwLock<()> = keen::sync::RwLock::const_with_max_readers((), 2);
        /// let (_a, _b) = (TWO.try_read().unwrap(), TWO.try_read().unwrap());
        /// assert!(TWO.try_read().is_err());
        /// ```
        ///
        /// # Panics
        /// If `max_reads` is 0 or more than `u32::MAX >> 3`.
        #[track_caller]
        pub const fn const_with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
            assert!(
                max_reads > 0 && max_reads <= MAX_READS,
                "an RwLock admits between 1 and u32::MAX >> 3 readers"
            );
            RwLock {
                max_readers: max_reads,
                permits: RawSemaphore::new(max_reads as usize),
                data: UnsafeCell::new(value),
            }
        }
    }

    /// The data, consuming the lock.
    ///
    /// ```
    /// assert_eq!(keen::sync::RwLock::new(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access, in FIFO order with every other waiter: it
    /// waits behind a queued writer even while other readers hold the lock.
    ///
    /// Cancel-safe: dropping the future leaves the queue, and shared access
    /// handed to it meanwhile is given back (and passed on).
    ///
    /// ```
    /// keen::block_on(async {
    ///     let lock = keen::sync::RwLock::new(1);
    ///     let (a, b) = (lock.read().await, lock.read().await);
    ///     assert_eq!(*a + *b, 2);
    /// });
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.acquire(1).await;
        RwLockReadGuard::new(self)
    }

    /// Waits for exclusive access, in FIFO order with every other waiter.
    /// While it waits, readers that come later wait behind it.
    ///
    /// Cancel-safe: dropping the future leaves the queue (readers it held
    /// back go on), and a lock handed to it meanwhile goes to the next
    /// waiters.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let lock = keen::sync::RwLock::new(1);
    ///     *lock.write().await += 1;
    ///     assert_eq!(*lock.read().await, 2);
    /// });
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.acquire(self.max_readers).await;
        RwLockWriteGuard::new(self)
    }

    /// Takes shared access if no writer holds the lock and nobody is queued.
    ///
    /// ```
    /// let lock = keen::sync::RwLock::new(1);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// assert_eq!(*r, 1);
    /// ```
    ///
    /// # Errors
    /// [`TryLockError`] if a writer holds the lock, the reader limit is
    /// reached, or a waiter is queued (it would be overtaken).
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.try_acquire(1)?;
        Ok(RwLockReadGuard::new(self))
    }

    /// Takes exclusive access if nobody holds the lock and nobody is queued.
    ///
    /// ```
    /// let lock = keen::sync::RwLock::new(1);
    /// let w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_err());
    /// drop(w);
    /// assert!(lock.try_read().is_ok());
    /// ```
    ///
    /// # Errors
    /// [`TryLockError`] if the lock is held, or a waiter is queued.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.try_acquire(self.max_readers)?;
        Ok(RwLockWriteGuard::new(self))
    }

    /// Blocks this thread until it has shared access, for code outside
    /// async context (a plain thread, `spawn_blocking`). Waits in the same
    /// FIFO queue as [`read`](Self::read).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(keen::sync::RwLock::new(3));
    /// let lock2 = lock.clone();
    /// let seen = std::thread::spawn(move || *lock2.blocking_read()).join().unwrap();
    /// assert_eq!(seen, 3);
    /// ```
    ///
    /// # Panics
    /// When called inside a keen task or `block_on` (it would stall a
    /// runtime thread). Inside another runtime it cannot tell: don't.
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        thread_wait::block_on("RwLock::blocking_read", self.read())
    }

    /// Blocks this thread until it has exclusive access, for code outside
    /// async context. Waits in the same FIFO queue as [`write`](Self::write).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(keen::sync::RwLock::new(0));
    /// let lock2 = lock.clone();
    /// std::thread::spawn(move || *lock2.blocking_write() += 1).join().unwrap();
    /// assert_eq!(*lock.blocking_read(), 1);
    /// ```
    ///
    /// # Panics
    /// When called inside a keen task or `block_on`.
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        thread_wait::block_on("RwLock::blocking_write", self.write())
    }

    /// [`read`](Self::read) for an `Arc<RwLock>`: the guard owns the `Arc`,
    /// so it is `'static` and can move into a spawned task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// keen::block_on(async {
    ///     let lock = Arc::new(keen::sync::RwLock::new(7));
    ///     let guard = lock.clone().read_owned().await;
    ///     let seen = keen::spawn(async move { *guard }).await.unwrap();
    ///     assert_eq!(seen, 7);
    /// });
    /// ```
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.acquire(1).await;
        OwnedRwLockReadGuard::new(self)
    }

    /// [`write`](Self::write) for an `Arc<RwLock>`: the guard owns the
    /// `Arc`, so it is `'static` and can move into a spawned task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// keen::block_on(async {
    ///     let lock = Arc::new(keen::sync::RwLock::new(0));
    ///     let mut guard = lock.clone().write_owned().await;
    ///     keen::spawn(async move { *guard += 1 }).await.unwrap();
    ///     assert_eq!(*lock.read().await, 1);
    /// });
    /// ```
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.acquire(self.max_readers).await;
        OwnedRwLockWriteGuard::new(self)
    }

    /// [`try_read`](Self::try_read) for an `Arc<RwLock>`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(keen::sync::RwLock::new(1));
    /// let r = lock.clone().try_read_owned().unwrap();
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// ```
    ///
    /// # Errors
    /// As [`try_read`](Self::try_read).
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        self.try_acquire(1)?;
        Ok(OwnedRwLockReadGuard::new(self))
    }

    /// [`try_write`](Self::try_write) for an `Arc<RwLock>`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(keen::sync::RwLock::new(1));
    /// let w = lock.clone().try_write_owned().unwrap();
    /// assert!(lock.try_read().is_err());
    /// drop(w);
    /// ```
    ///
    /// # Errors
    /// As [`try_write`](Self::try_write).
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        self.try_acquire(self.max_readers)?;
        Ok(OwnedRwLockWriteGuard::new(self))
    }

    /// The data, through `&mut self`: no locking needed.
    ///
    /// ```
    /// let mut lock = keen::sync::RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Waits for `n` permits (1 for a reader, all for a writer).
    async fn acquire(&self, n: u32) {
        if self.permits.acquire(n as usize).await.is_err() {
            unreachable!("an RwLock's semaphore is never closed")
        }
    }

    fn try_acquire(&self, n: u32) -> Result<(), TryLockError> {
        self.permits
            .try_acquire(n as usize)
            .map_err(|_| TryLockError(()))
    }

    /// Gives back `n` permits, handing them to the front waiters.
    fn release(&self, n: u32) {
        self.permits.release(n as usize);
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Compile-time checks that the types are `Send`/`Sync` as tokio's (read
/// guards are `Sync` for `T: Sync`, std's bound, where tokio asks `T: Send +
/// Sync`: everything tokio accepts is accepted).
#[allow(dead_code, reason = "compile-time check only")]
fn _ensure_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<RwLock<Vec<u8>>>();
    send_sync::<RwLockReadGuard<'static, Vec<u8>>>();
    send_sync::<RwLockWriteGuard<'static, Vec<u8>>>();
    send_sync::<OwnedRwLockReadGuard<Vec<u8>>>();
    send_sync::<OwnedRwLockWriteGuard<Vec<u8>>>();
    // `Cell` is `Send` but not `Sync`: the lock is then `Send` only.
    send::<RwLock<std::cell::Cell<u8>>>();
    // `MutexGuard` is `Sync` but not `Send`: a read guard of it may still
    // move to another thread (it only gives out `&T`), as in tokio.
    send::<RwLockReadGuard<'static, std::sync::MutexGuard<'static, u8>>>();
}
