//! The owned guards of [`RwLock`] (from `read_owned` / `write_owned`):
//! [`OwnedRwLockReadGuard`] and [`OwnedRwLockWriteGuard`] hold an
//! `Arc<RwLock<T>>`, so they are `'static` and can move into spawned tasks.
//!
//! Both wrap [`Held`], which owns the `Arc` and the number of permits it
//! gives back when dropped; downgrading a write guard gives back all but
//! one and moves the same `Held` into the read guard, so no `Arc` is cloned
//! and no `unsafe` is needed to move it out of a `Drop` type.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::RwLock;

/// An `Arc` of the lock plus the permits this guard holds.
struct Held<T: ?Sized> {
    lock: Arc<RwLock<T>>,
    permits: u32,
}

impl<T: ?Sized> Drop for Held<T> {
    fn drop(&mut self) {
        self.lock.release(self.permits);
    }
}

/// An [`RwLockReadGuard`](super::RwLockReadGuard) that owns an `Arc` of its
/// lock (from [`RwLock::read_owned`]).
///
/// ```
/// use std::sync::Arc;
/// keen::block_on(async {
///     let lock = Arc::new(keen::sync::RwLock::new(1));
///     let guard = lock.clone().read_owned().await;
///     assert!(Arc::ptr_eq(guard.rwlock(), &lock));
///     assert_eq!(*guard, 1);
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    held: Held<T>,
}

impl<T: ?Sized> OwnedRwLockReadGuard<T> {
    /// A guard for one permit its caller has just taken.
    pub(super) fn new(lock: Arc<RwLock<T>>) -> Self {
        OwnedRwLockReadGuard {
            held: Held { lock, permits: 1 },
        }
    }

    /// The lock this guard reads.
    pub fn rwlock(&self) -> &Arc<RwLock<T>> {
        &self.held.lock
    }
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds a permit, so no write guard (which needs
        // every permit) exists while it lives: only shared references exist.
        unsafe { &*self.held.lock.data.get() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedRwLockReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// An [`RwLockWriteGuard`](super::RwLockWriteGuard) that owns an `Arc` of
/// its lock (from [`RwLock::write_owned`]).
///
/// ```
/// use std::sync::Arc;
/// keen::block_on(async {
///     let lock = Arc::new(keen::sync::RwLock::new(vec![1]));
///     let mut guard = lock.clone().write_owned().await;
///     guard.push(2);
///     let reader = guard.downgrade();
///     assert_eq!(*lock.read().await, [1, 2]);
///     drop(reader);
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    held: Held<T>,
    // `Box<T>` adds `T`'s own `Send`/`Sync` to the `Arc`'s bounds, so the
    // guard is `Send`/`Sync` for `T: Send + Sync`, as tokio's.
    _exclusive: PhantomData<Box<T>>,
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// A guard for every permit, which its caller has just taken.
    pub(super) fn new(lock: Arc<RwLock<T>>) -> Self {
        let permits = lock.max_readers;
        OwnedRwLockWriteGuard {
            held: Held { lock, permits },
            _exclusive: PhantomData,
        }
    }

    /// The lock this guard writes.
    pub fn rwlock(&self) -> &Arc<RwLock<T>> {
        &self.held.lock
    }

    /// Turns exclusive access into shared access without letting a writer
    /// in between (see [`RwLockWriteGuard::downgrade`](super::RwLockWriteGuard::downgrade)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(keen::sync::RwLock::new(0));
    /// let w = lock.clone().try_write_owned().unwrap();
    /// let r = w.downgrade();
    /// assert!(lock.try_read().is_ok());
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// ```
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let mut held = self.held;
        held.lock.release(held.permits - 1);
        held.permits = 1;
        OwnedRwLockReadGuard { held }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds every permit, so no other guard exists
        // while it lives.
        unsafe { &*self.held.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this reference unique.
        unsafe { &mut *self.held.lock.data.get() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
