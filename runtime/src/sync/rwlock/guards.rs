//! The borrowed guards of [`RwLock`]: [`RwLockReadGuard`] (one permit,
//! shared access) and [`RwLockWriteGuard`] (every permit, exclusive
//! access), with [`RwLockWriteGuard::downgrade`].

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use super::RwLock;

/// Shared access to an [`RwLock`]'s data; gives its permit back when
/// dropped (handing it on to the front waiter if there is one).
///
/// ```
/// keen::block_on(async {
///     let lock = keen::sync::RwLock::new(vec![1, 2]);
///     let guard: keen::sync::RwLockReadGuard<'_, Vec<i32>> = lock.read().await;
///     assert_eq!(guard.len(), 2);
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

// SAFETY: a read guard gives out only `&T` and gives its permit back through
// the semaphore, which is `Sync`; so moving it to another thread needs only
// `T: Sync` (tokio's bound). Its auto `Sync` stays `T: Send + Sync`.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// A guard for one permit its caller has just taken.
    pub(super) fn new(lock: &'a RwLock<T>) -> Self {
        RwLockReadGuard { lock }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds a permit, so no write guard (which needs
        // every permit) exists while it lives: only shared references exist.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Exclusive access to an [`RwLock`]'s data; releases the lock when
/// dropped, handing it to the front waiters (one writer, or the readers
/// queued before the next writer).
///
/// ```
/// keen::block_on(async {
///     let lock = keen::sync::RwLock::new(String::from("a"));
///     let mut guard = lock.write().await;
///     guard.push('b');
///     drop(guard);
///     assert_eq!(*lock.read().await, "ab");
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    // `&mut T` makes the guard `Send`/`Sync` only as `T` allows (tokio's
    // bounds: `T: Send + Sync` for both).
    _exclusive: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// A guard for every permit, which its caller has just taken.
    pub(super) fn new(lock: &'a RwLock<T>) -> Self {
        RwLockWriteGuard {
            lock,
            _exclusive: PhantomData,
        }
    }

    /// Turns exclusive access into shared access without letting a writer
    /// in between: the other permits are given back (the readers queued at
    /// the front get them at once), this one is kept by the read guard.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let lock = keen::sync::RwLock::new(1);
    ///     let mut w = lock.write().await;
    ///     *w += 1;
    ///     let r = w.downgrade();
    ///     assert_eq!(*lock.try_read().unwrap(), 2, "other readers may enter");
    ///     assert!(lock.try_write().is_err());
    ///     assert_eq!(*r, 2);
    /// });
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        // The write guard's drop would give back every permit; keep one.
        // (It owns nothing else, so forgetting it leaks nothing.)
        std::mem::forget(self);
        lock.release(lock.max_readers - 1);
        RwLockReadGuard::new(lock)
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds every permit, so no other guard exists
        // while it lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this reference unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release(self.lock.max_readers);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
