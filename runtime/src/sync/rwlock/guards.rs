//! The borrowed guards of [`RwLock`]: [`RwLockReadGuard`] (one permit,
//! shared access), [`RwLockWriteGuard`] (every permit, exclusive access)
//! and [`RwLockMappedWriteGuard`] (a write guard narrowed to a part of the
//! data), with tokio's `downgrade`, `map`, `try_map`, `downgrade_map` and
//! `into_mapped`.
//!
//! Each guard is the permits it holds (released to the lock's semaphore on
//! drop) plus a pointer to the data it gives access to: the lock's whole
//! value, or the part a `map` closure picked. Mapping moves the permits into
//! the new guard and swaps the pointer; nothing else changes, so a mapped
//! guard excludes exactly what the original did.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

use super::RwLock;
use crate::sync::raw_semaphore::RawSemaphore;

/// Permits of one lock's semaphore, given back when dropped.
struct Permits<'a> {
    semaphore: &'a RawSemaphore,
    count: u32,
}

impl Drop for Permits<'_> {
    fn drop(&mut self) {
        self.semaphore.release(self.count as usize);
    }
}

/// Shared access to an [`RwLock`]'s data (or, after [`map`](Self::map), a
/// part of it); gives its permit back when dropped (handing it on to the
/// front waiter if there is one).
///
/// ```
/// keen::block_on(async {
///     let lock = keen::sync::RwLock::new(vec![1, 2]);
///     let guard: keen::sync::RwLockReadGuard<'_, Vec<i32>> = lock.read().await;
///     assert_eq!(guard.len(), 2);
/// });
/// ```
#[clippy::has_significant_drop]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    permits: Permits<'a>,
    data: NonNull<T>,
    _shared: PhantomData<&'a T>,
}

// SAFETY: a read guard gives out only `&T` and gives its permit back through
// the semaphore, which is `Sync` (checked below); so moving it to another
// thread needs only `T: Sync` (tokio's bound).
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as above: `&RwLockReadGuard` gives out `&T` only, so `T: Sync`
// is enough (std's bound for its read guard; tokio asks `T: Send + Sync`,
// which is stricter than needed: every type tokio accepts is accepted).
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

// The hand-written `Send`/`Sync` impls here and in `owned.rs` take the
// semaphore's own for granted: checked.
const _: fn() = || {
    fn send_sync<S: Send + Sync>() {}
    send_sync::<RawSemaphore>();
};

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// A guard for one permit its caller has just taken.
    pub(super) fn new(lock: &'a RwLock<T>) -> Self {
        RwLockReadGuard {
            permits: Permits {
                semaphore: &lock.permits,
                count: 1,
            },
            data: NonNull::new(lock.data.get()).expect("an UnsafeCell's pointer is not null"),
            _shared: PhantomData,
        }
    }

    /// Narrows the guard to a part of the data, keeping the lock read-held.
    /// An associated function (`RwLockReadGuard::map(guard, f)`), as tokio's,
    /// so it does not shadow a method of `T`.
    ///
    /// ```
    /// use keen::sync::{RwLock, RwLockReadGuard};
    /// keen::block_on(async {
    ///     let lock = RwLock::new((1, String::from("two")));
    ///     let name = RwLockReadGuard::map(lock.read().await, |pair| &pair.1);
    ///     assert_eq!(&*name, "two");
    ///     assert!(lock.try_write().is_err(), "still held");
    /// });
    /// ```
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = NonNull::from(f(&*this));
        this.with_data(data)
    }

    /// [`map`](Self::map) when the closure may decline (`None`): then the
    /// original guard comes back as the `Err`.
    ///
    /// ```
    /// use keen::sync::{RwLock, RwLockReadGuard};
    /// let lock = RwLock::new(vec![1]);
    /// let first = RwLockReadGuard::try_map(lock.try_read().unwrap(), |v| v.first());
    /// assert_eq!(*first.unwrap(), 1);
    /// let none = RwLockReadGuard::try_map(lock.try_read().unwrap(), |v| v.get(5));
    /// assert_eq!(*none.err().unwrap(), [1], "the guard is handed back");
    /// ```
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        match f(&*this).map(NonNull::from) {
            Some(data) => Ok(this.with_data(data)),
            None => Err(this),
        }
    }

    /// The same permit, another view of the data.
    fn with_data<U: ?Sized>(self, data: NonNull<U>) -> RwLockReadGuard<'a, U> {
        RwLockReadGuard {
            permits: self.permits,
            data,
            _shared: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `data` points into the lock's value (or a part of it a map
        // closure borrowed from it), which outlives `'a`; this guard holds a
        // permit, so no write guard (which needs every permit) exists while
        // it lives: only shared references exist.
        unsafe { self.data.as_ref() }
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
#[clippy::has_significant_drop]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    inner: Exclusive<'a, T>,
}

/// [`RwLockWriteGuard`] narrowed by [`RwLockWriteGuard::map`]: exclusive
/// access to a part of the data, the whole lock still write-held.
/// Invariant in `T`, as `&mut T` is:
///
/// ```compile_fail
/// use keen::sync::RwLockMappedWriteGuard;
/// fn shorten<'g, 'a>(
///     g: RwLockMappedWriteGuard<'g, &'static str>,
/// ) -> RwLockMappedWriteGuard<'g, &'a str> {
///     g
/// }
/// ```
///
/// ```
/// use keen::sync::{RwLock, RwLockWriteGuard};
/// keen::block_on(async {
///     let lock = RwLock::new((0, vec![1]));
///     let mut list = RwLockWriteGuard::map(lock.write().await, |pair| &mut pair.1);
///     list.push(2);
///     drop(list);
///     assert_eq!(lock.read().await.1, [1, 2]);
/// });
/// ```
#[clippy::has_significant_drop]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    inner: Exclusive<'a, T>,
}

/// Every permit of a lock plus a pointer to the data they give access to.
struct Exclusive<'a, T: ?Sized> {
    permits: Permits<'a>,
    data: NonNull<T>,
    // `&mut T` makes the guards `Send`/`Sync` only as `T` allows.
    _exclusive: PhantomData<&'a mut T>,
}

// SAFETY: a write guard gives out `&mut T` to one thread at a time (`T:
// Send`) and `&T` through `&self` (`T: Sync`); its permits go back through
// the `Sync` semaphore. tokio's bounds.
unsafe impl<T: ?Sized + Send + Sync> Send for Exclusive<'_, T> {}
// SAFETY: `&Exclusive` gives out `&T` only.
unsafe impl<T: ?Sized + Send + Sync> Sync for Exclusive<'_, T> {}

impl<'a, T: ?Sized> Exclusive<'a, T> {
    fn get(&self) -> &T {
        // SAFETY: `data` points into the lock's value (or a part a map
        // closure borrowed from it mutably), which outlives `'a`; every
        // permit is held here, so no other guard exists.
        unsafe { self.data.as_ref() }
    }

    fn get_mut(&mut self) -> &mut T {
        // SAFETY: as in `get`; `&mut self` makes the reference unique.
        unsafe { self.data.as_mut() }
    }

    fn map<U: ?Sized>(mut self, f: impl FnOnce(&mut T) -> &mut U) -> Exclusive<'a, U> {
        let data = NonNull::from(f(self.get_mut()));
        Exclusive {
            permits: self.permits,
            data,
            _exclusive: PhantomData,
        }
    }

    fn try_map<U: ?Sized>(
        mut self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<Exclusive<'a, U>, Self> {
        match f(self.get_mut()).map(NonNull::from) {
            Some(data) => Ok(Exclusive {
                permits: self.permits,
                data,
                _exclusive: PhantomData,
            }),
            None => Err(self),
        }
    }

    /// Keeps one permit for a read guard of `data`, gives the rest back.
    /// The read guard is whole before anything is released: `release` wakes
    /// waiters, a waker may panic, and the unwind must then drop a guard
    /// of one permit, not give the others back a second time.
    fn downgrade_to<U: ?Sized>(self, data: NonNull<U>) -> RwLockReadGuard<'a, U> {
        let mut permits = self.permits;
        let extra = permits.count - 1;
        permits.count = 1;
        let guard = RwLockReadGuard {
            permits,
            data,
            _shared: PhantomData,
        };
        guard.permits.semaphore.release(extra as usize);
        guard
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// A guard for every permit, which its caller has just taken.
    pub(super) fn new(lock: &'a RwLock<T>) -> Self {
        RwLockWriteGuard {
            inner: Exclusive {
                permits: Permits {
                    semaphore: &lock.permits,
                    count: lock.max_readers,
                },
                data: NonNull::new(lock.data.get()).expect("an UnsafeCell's pointer is not null"),
                _exclusive: PhantomData,
            },
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
        let data = self.inner.data;
        self.inner.downgrade_to(data)
    }

    /// Narrows the guard to a part of the data, keeping the whole lock
    /// write-held (an associated function, as tokio's).
    ///
    /// ```
    /// use keen::sync::{RwLock, RwLockWriteGuard};
    /// let lock = RwLock::new([0, 0]);
    /// *RwLockWriteGuard::map(lock.try_write().unwrap(), |a| &mut a[1]) = 7;
    /// assert_eq!(*lock.try_read().unwrap(), [0, 7]);
    /// ```
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        RwLockMappedWriteGuard {
            inner: this.inner.map(f),
        }
    }

    /// [`map`](Self::map) when the closure may decline (`None`): then the
    /// original guard comes back as the `Err`.
    ///
    /// ```
    /// use keen::sync::{RwLock, RwLockWriteGuard};
    /// let lock = RwLock::new(vec![1]);
    /// let missing = RwLockWriteGuard::try_map(lock.try_write().unwrap(), |v| v.get_mut(3));
    /// let mut whole = missing.err().unwrap();
    /// whole.push(2);
    /// ```
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        match this.inner.try_map(f) {
            Ok(inner) => Ok(RwLockMappedWriteGuard { inner }),
            Err(inner) => Err(RwLockWriteGuard { inner }),
        }
    }

    /// [`downgrade`](Self::downgrade), narrowed to a part of the data.
    ///
    /// ```
    /// use keen::sync::{RwLock, RwLockWriteGuard};
    /// let lock = RwLock::new((1, 2));
    /// let second = RwLockWriteGuard::downgrade_map(lock.try_write().unwrap(), |p| &p.1);
    /// assert_eq!(*second, 2);
    /// assert!(lock.try_read().is_ok() && lock.try_write().is_err());
    /// ```
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = NonNull::from(f(this.inner.get()));
        this.inner.downgrade_to(data)
    }

    /// [`downgrade_map`](Self::downgrade_map) when the closure may decline:
    /// then the write guard comes back as the `Err`, still exclusive.
    ///
    /// ```
    /// use keen::sync::{RwLock, RwLockWriteGuard};
    /// let lock = RwLock::new(None::<u8>);
    /// let w = RwLockWriteGuard::try_downgrade_map(lock.try_write().unwrap(), |o| o.as_ref());
    /// assert!(w.is_err() && lock.try_read().is_err());
    /// ```
    pub fn try_downgrade_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        match f(this.inner.get()).map(NonNull::from) {
            Some(data) => Ok(this.inner.downgrade_to(data)),
            None => Err(this),
        }
    }

    /// The same guard as a [`RwLockMappedWriteGuard`] of the whole data.
    ///
    /// ```
    /// use keen::sync::{RwLock, RwLockWriteGuard};
    /// let lock = RwLock::new(1);
    /// let mut m = RwLockWriteGuard::into_mapped(lock.try_write().unwrap());
    /// *m += 1;
    /// drop(m);
    /// assert_eq!(*lock.try_read().unwrap(), 2);
    /// ```
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        RwLockMappedWriteGuard { inner: this.inner }
    }
}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    /// Narrows the guard further (see [`RwLockWriteGuard::map`]).
    ///
    /// ```
    /// use keen::sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    /// let lock = RwLock::new(((0, 0), 0));
    /// let outer = RwLockWriteGuard::map(lock.try_write().unwrap(), |t| &mut t.0);
    /// *RwLockMappedWriteGuard::map(outer, |p| &mut p.1) = 5;
    /// assert_eq!(*lock.try_read().unwrap(), ((0, 5), 0));
    /// ```
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        RwLockMappedWriteGuard {
            inner: this.inner.map(f),
        }
    }

    /// [`map`](Self::map) when the closure may decline (`None`): then the
    /// guard comes back as the `Err`.
    ///
    /// ```
    /// use keen::sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    /// let lock = RwLock::new(vec![vec![1]]);
    /// let inner = RwLockWriteGuard::map(lock.try_write().unwrap(), |v| &mut v[0]);
    /// assert!(RwLockMappedWriteGuard::try_map(inner, |v| v.get_mut(9)).is_err());
    /// ```
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        match this.inner.try_map(f) {
            Ok(inner) => Ok(RwLockMappedWriteGuard { inner }),
            Err(inner) => Err(RwLockMappedWriteGuard { inner }),
        }
    }
}

/// `Deref`, `DerefMut`, `Debug` and `Display` for the two exclusive guards.
macro_rules! exclusive_guard_impls {
    ($guard:ident) => {
        impl<T: ?Sized> Deref for $guard<'_, T> {
            type Target = T;

            fn deref(&self) -> &T {
                self.inner.get()
            }
        }

        impl<T: ?Sized> DerefMut for $guard<'_, T> {
            fn deref_mut(&mut self) -> &mut T {
                self.inner.get_mut()
            }
        }

        impl<T: ?Sized + fmt::Debug> fmt::Debug for $guard<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<T: ?Sized + fmt::Display> fmt::Display for $guard<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    };
}

exclusive_guard_impls!(RwLockWriteGuard);
exclusive_guard_impls!(RwLockMappedWriteGuard);
