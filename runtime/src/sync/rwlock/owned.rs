//! The owned guards of [`RwLock`] (from `read_owned` / `write_owned`):
//! [`OwnedRwLockReadGuard`], [`OwnedRwLockWriteGuard`] and
//! [`OwnedRwLockMappedWriteGuard`] hold an `Arc<RwLock<T>>`, so they are
//! `'static` and can move into spawned tasks. As tokio's, the read and
//! mapped guards carry a second type, `U`, the part of the data a `map`
//! narrowed them to (`U = T` until then).
//!
//! Each wraps [`Held`], which owns the `Arc` and the number of permits it
//! gives back when dropped, plus a pointer to the data it shows;
//! downgrading or mapping moves the same `Held` into the new guard (all but
//! one permit given back first, for a downgrade), so no `Arc` is cloned.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
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
/// lock (from [`RwLock::read_owned`]), showing the data `T` or, after
/// [`map`](Self::map), a part `U` of it.
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
#[clippy::has_significant_drop]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T> {
    held: Held<T>,
    data: NonNull<U>,
    // Covariant in `U`, as `&U` is; `Send`/`Sync` are implemented by hand.
    _shared: PhantomData<*const U>,
}

// SAFETY: the guard owns an `Arc<RwLock<T>>` (moving it needs `T: Send +
// Sync`, as the `Arc`'s own bound) and gives out `&U` only (`U: Sync`);
// tokio's bounds.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Send for OwnedRwLockReadGuard<T, U> {}
// SAFETY: as above; `&guard` gives out `&U` (and `&Arc<RwLock<T>>`, covered
// by `T: Send + Sync`) only, so `U: Sync` is enough (tokio asks `U: Send +
// Sync`, stricter than needed).
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Sync for OwnedRwLockReadGuard<T, U> {}

impl<T: ?Sized> OwnedRwLockReadGuard<T> {
    /// A guard for one permit its caller has just taken.
    pub(super) fn new(lock: Arc<RwLock<T>>) -> Self {
        let data = whole(&lock);
        OwnedRwLockReadGuard {
            held: Held { lock, permits: 1 },
            data,
            _shared: PhantomData,
        }
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    /// The lock this guard reads.
    pub fn rwlock(&self) -> &Arc<RwLock<T>> {
        &self.held.lock
    }

    /// Narrows the guard to a part of the data (see
    /// [`RwLockReadGuard::map`](super::RwLockReadGuard::map)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use keen::sync::{OwnedRwLockReadGuard, RwLock};
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let second: OwnedRwLockReadGuard<(i32, i32), i32> =
    ///     OwnedRwLockReadGuard::map(lock.clone().try_read_owned().unwrap(), |p| &p.1);
    /// assert_eq!(*second, 2);
    /// ```
    pub fn map<F, V: ?Sized>(this: Self, f: F) -> OwnedRwLockReadGuard<T, V>
    where
        F: FnOnce(&U) -> &V,
    {
        let data = NonNull::from(f(&*this));
        OwnedRwLockReadGuard {
            held: this.held,
            data,
            _shared: PhantomData,
        }
    }

    /// [`map`](Self::map) when the closure may decline (`None`): then the
    /// guard comes back as the `Err`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use keen::sync::{OwnedRwLockReadGuard, RwLock};
    /// let lock = Arc::new(RwLock::new(vec![1]));
    /// let g = OwnedRwLockReadGuard::try_map(lock.try_read_owned().unwrap(), |v| v.get(4));
    /// assert!(g.is_err());
    /// ```
    pub fn try_map<F, V: ?Sized>(this: Self, f: F) -> Result<OwnedRwLockReadGuard<T, V>, Self>
    where
        F: FnOnce(&U) -> Option<&V>,
    {
        match f(&*this).map(NonNull::from) {
            Some(data) => Ok(OwnedRwLockReadGuard {
                held: this.held,
                data,
                _shared: PhantomData,
            }),
            None => Err(this),
        }
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockReadGuard<T, U> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: `data` points into the value of the lock `held` keeps
        // alive (or a part a map closure borrowed from it); this guard holds
        // a permit, so no write guard (which needs every permit) exists
        // while it lives: only shared references exist.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Display> fmt::Display for OwnedRwLockReadGuard<T, U> {
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
#[clippy::has_significant_drop]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    inner: OwnedExclusive<T, T>,
}

/// [`OwnedRwLockWriteGuard`] narrowed by [`OwnedRwLockWriteGuard::map`]:
/// exclusive access to a part `U` of the data, the whole lock write-held.
/// Invariant in `U`, as `&mut U` is:
///
/// ```compile_fail
/// use keen::sync::OwnedRwLockMappedWriteGuard;
/// fn shorten<'a>(
///     g: OwnedRwLockMappedWriteGuard<(), &'static str>,
/// ) -> OwnedRwLockMappedWriteGuard<(), &'a str> {
///     g
/// }
/// ```
///
/// ```
/// use std::sync::Arc;
/// use keen::sync::{OwnedRwLockWriteGuard, RwLock};
/// let lock = Arc::new(RwLock::new((0, 0)));
/// let mut first = OwnedRwLockWriteGuard::map(lock.clone().try_write_owned().unwrap(), |p| &mut p.0);
/// *first = 3;
/// drop(first);
/// assert_eq!(*lock.try_read().unwrap(), (3, 0));
/// ```
#[clippy::has_significant_drop]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized, U: ?Sized = T> {
    inner: OwnedExclusive<T, U>,
}

/// Every permit of the lock `held` keeps, and the data they show.
struct OwnedExclusive<T: ?Sized, U: ?Sized> {
    held: Held<T>,
    data: NonNull<U>,
    // Invariant in `U`, as `&mut U` is: a guard of `&'static str` must not
    // pass for one of a shorter `&str` (it could then store one). `Send`
    // and `Sync` are implemented by hand below.
    _exclusive: PhantomData<*mut U>,
}

// SAFETY: moving the `Arc<RwLock<T>>` needs `T: Send + Sync`; the guard gives
// out `&mut U` to one thread at a time (`U: Send`) and `&U` through `&self`
// (`U: Sync`). tokio's bounds.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Send for OwnedExclusive<T, U> {}
// SAFETY: `&OwnedExclusive` gives out `&U` only.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedExclusive<T, U> {}

impl<T: ?Sized, U: ?Sized> OwnedExclusive<T, U> {
    fn get(&self) -> &U {
        // SAFETY: `data` points into the value of the lock `held` keeps
        // alive (or a part a map closure borrowed from it mutably); every
        // permit is held here, so no other guard exists.
        unsafe { self.data.as_ref() }
    }

    fn get_mut(&mut self) -> &mut U {
        // SAFETY: as in `get`; `&mut self` makes the reference unique.
        unsafe { self.data.as_mut() }
    }

    fn map<V: ?Sized>(mut self, f: impl FnOnce(&mut U) -> &mut V) -> OwnedExclusive<T, V> {
        let data = NonNull::from(f(self.get_mut()));
        OwnedExclusive {
            held: self.held,
            data,
            _exclusive: PhantomData,
        }
    }

    fn try_map<V: ?Sized>(
        mut self,
        f: impl FnOnce(&mut U) -> Option<&mut V>,
    ) -> Result<OwnedExclusive<T, V>, Self> {
        match f(self.get_mut()).map(NonNull::from) {
            Some(data) => Ok(OwnedExclusive {
                held: self.held,
                data,
                _exclusive: PhantomData,
            }),
            None => Err(self),
        }
    }

    /// Keeps one permit for a read guard of `data`, gives the rest back,
    /// once the read guard is whole (see the borrowed `downgrade_to`: a
    /// waker panicking inside `release` must not make the unwind give the
    /// permits back twice).
    fn downgrade_to<V: ?Sized>(self, data: NonNull<V>) -> OwnedRwLockReadGuard<T, V> {
        let mut held = self.held;
        let extra = held.permits - 1;
        held.permits = 1;
        let guard = OwnedRwLockReadGuard {
            held,
            data,
            _shared: PhantomData,
        };
        guard.held.lock.release(extra);
        guard
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// A guard for every permit, which its caller has just taken.
    pub(super) fn new(lock: Arc<RwLock<T>>) -> Self {
        let permits = lock.max_readers;
        let data = whole(&lock);
        OwnedRwLockWriteGuard {
            inner: OwnedExclusive {
                held: Held { lock, permits },
                data,
                _exclusive: PhantomData,
            },
        }
    }

    /// The lock this guard writes.
    pub fn rwlock(&self) -> &Arc<RwLock<T>> {
        &self.inner.held.lock
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
        let data = self.inner.data;
        self.inner.downgrade_to(data)
    }

    /// Narrows the guard to a part of the data, keeping the whole lock
    /// write-held (see [`RwLockWriteGuard::map`](super::RwLockWriteGuard::map)).
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        OwnedRwLockMappedWriteGuard {
            inner: this.inner.map(f),
        }
    }

    /// [`map`](Self::map) when the closure may decline (`None`): then the
    /// original guard comes back as the `Err`.
    pub fn try_map<F, U: ?Sized>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        match this.inner.try_map(f) {
            Ok(inner) => Ok(OwnedRwLockMappedWriteGuard { inner }),
            Err(inner) => Err(OwnedRwLockWriteGuard { inner }),
        }
    }

    /// [`downgrade`](Self::downgrade), narrowed to a part of the data.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use keen::sync::{OwnedRwLockWriteGuard, RwLock};
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let r = OwnedRwLockWriteGuard::downgrade_map(lock.clone().try_write_owned().unwrap(), |p| &p.0);
    /// assert_eq!(*r, 1);
    /// assert!(lock.try_read().is_ok() && lock.try_write().is_err());
    /// ```
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> OwnedRwLockReadGuard<T, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = NonNull::from(f(this.inner.get()));
        this.inner.downgrade_to(data)
    }

    /// [`downgrade_map`](Self::downgrade_map) when the closure may decline:
    /// then the write guard comes back as the `Err`, still exclusive.
    pub fn try_downgrade_map<F, U: ?Sized>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockReadGuard<T, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        match f(this.inner.get()).map(NonNull::from) {
            Some(data) => Ok(this.inner.downgrade_to(data)),
            None => Err(this),
        }
    }

    /// The same guard as an [`OwnedRwLockMappedWriteGuard`] of the whole data.
    pub fn into_mapped(this: Self) -> OwnedRwLockMappedWriteGuard<T> {
        OwnedRwLockMappedWriteGuard { inner: this.inner }
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockMappedWriteGuard<T, U> {
    /// The lock this guard writes.
    pub fn rwlock(&self) -> &Arc<RwLock<T>> {
        &self.inner.held.lock
    }

    /// Narrows the guard further.
    pub fn map<F, V: ?Sized>(this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        OwnedRwLockMappedWriteGuard {
            inner: this.inner.map(f),
        }
    }

    /// [`map`](Self::map) when the closure may decline (`None`): then the
    /// guard comes back as the `Err`.
    pub fn try_map<F, V: ?Sized>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, V>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        match this.inner.try_map(f) {
            Ok(inner) => Ok(OwnedRwLockMappedWriteGuard { inner }),
            Err(inner) => Err(OwnedRwLockMappedWriteGuard { inner }),
        }
    }
}

/// A pointer to the whole of `lock`'s data.
fn whole<T: ?Sized>(lock: &RwLock<T>) -> NonNull<T> {
    NonNull::new(lock.data.get()).expect("an UnsafeCell's pointer is not null")
}

/// `Deref`, `DerefMut`, `Debug` and `Display` for the owned exclusive guards.
macro_rules! owned_exclusive_impls {
    ($guard:ident<$t:ident $(, $u:ident)?> => $target:ident) => {
        impl<$t: ?Sized $(, $u: ?Sized)?> Deref for $guard<$t $(, $u)?> {
            type Target = $target;

            fn deref(&self) -> &$target {
                self.inner.get()
            }
        }

        impl<$t: ?Sized $(, $u: ?Sized)?> DerefMut for $guard<$t $(, $u)?> {
            fn deref_mut(&mut self) -> &mut $target {
                self.inner.get_mut()
            }
        }

        impl<$t: ?Sized $(, $u: ?Sized)?> fmt::Debug for $guard<$t $(, $u)?>
        where
            $target: fmt::Debug,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$t: ?Sized $(, $u: ?Sized)?> fmt::Display for $guard<$t $(, $u)?>
        where
            $target: fmt::Display,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    };
}

owned_exclusive_impls!(OwnedRwLockWriteGuard<T> => T);
owned_exclusive_impls!(OwnedRwLockMappedWriteGuard<T, U> => U);
