//! [`OnceCell`]: a value set at most once, by an async initialiser that
//! only one caller runs at a time; and [`SetError`].
//!
//! Built from two parts, neither with `unsafe`:
//!
//! - the value: a `std::sync::OnceLock<T>`, which gives lock-free `get`
//!   (one acquire load) and a `set` we only ever call as the sole
//!   initialiser, so it never blocks (through `crate::loom`, which under
//!   loom wraps it so the models see its release/acquire publication);
//! - the right to initialise: a one-permit [`RawSemaphore`]. Initialisers
//!   queue for the permit in FIFO order; the holder runs its future, stores
//!   the value and *closes* the semaphore, which fails every queued and
//!   later acquire, so they read the value instead. If the holder is
//!   cancelled, panics or fails (`get_or_try_init`), its permit goes back
//!   and the next queued caller initialises.
//!
//! So "closed" means "the value is set"; [`OnceCell::take`], which has
//! `&mut self`, empties the value and puts a fresh semaphore in.

use std::error::Error;
use std::fmt;
use std::future::Future;

use super::raw_semaphore::{RawSemaphore, TryAcquire};
use crate::loom::OnceLock;

/// A cell written at most once, whose async initialiser runs in one caller
/// at a time while the others wait for its result.
///
/// Names and meaning follow `tokio::sync::OnceCell`. Initialisation is
/// cancel-safe: if the caller running the initialiser is dropped (or its
/// future panics, or returns an error from
/// [`get_or_try_init`](OnceCell::get_or_try_init)), the next waiting caller
/// runs its own initialiser.
///
/// ```
/// use keen::sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::const_new();
///
/// keen::block_on(async {
///     let value = CONFIG.get_or_init(|| async { String::from("loaded") }).await;
///     assert_eq!(value, "loaded");
///     // Later callers get the same value; their initialiser does not run.
///     let again = CONFIG.get_or_init(|| async { unreachable!() }).await;
///     assert!(std::ptr::eq(value, again));
/// });
/// ```
pub struct OnceCell<T> {
    value: OnceLock<T>,
    init: RawSemaphore,
}

impl<T> OnceCell<T> {
    /// An empty cell.
    ///
    /// ```
    /// let cell = keen::sync::OnceCell::<u8>::new();
    /// assert!(cell.get().is_none());
    /// ```
    pub fn new() -> OnceCell<T> {
        OnceCell::const_new()
    }

    /// An empty cell, usable in a `static`.
    ///
    /// ```
    /// static CELL: keen::sync::OnceCell<u8> = keen::sync::OnceCell::const_new();
    /// assert!(!CELL.initialized());
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new() -> OnceCell<T> {
        OnceCell {
            value: OnceLock::new(),
            init: RawSemaphore::new(1),
        }
    }

    /// An empty cell (under loom, whose semaphore is not `const`).
    #[cfg(loom)]
    pub fn const_new() -> OnceCell<T> {
        OnceCell {
            value: OnceLock::new(),
            init: RawSemaphore::new(1),
        }
    }

    /// A cell holding `value` if it is `Some`, else empty.
    ///
    /// ```
    /// let cell = keen::sync::OnceCell::new_with(Some(3));
    /// assert_eq!(cell.get(), Some(&3));
    /// ```
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        let cell = OnceCell::new();
        if let Some(value) = value {
            cell.store(value);
        }
        cell
    }

    /// Whether the value is set.
    ///
    /// ```
    /// let cell = keen::sync::OnceCell::new();
    /// cell.set(1).unwrap();
    /// assert!(cell.initialized());
    /// ```
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// The value, if it is set.
    ///
    /// ```
    /// let cell = keen::sync::OnceCell::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set("x").unwrap();
    /// assert_eq!(cell.get(), Some(&"x"));
    /// ```
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// The value mutably, if it is set (no locking: `&mut self`).
    ///
    /// ```
    /// let mut cell = keen::sync::OnceCell::new_with(Some(1));
    /// *cell.get_mut().unwrap() += 1;
    /// assert_eq!(cell.get(), Some(&2));
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    /// Sets the value if the cell is empty and nobody is initialising it.
    ///
    /// ```
    /// let cell = keen::sync::OnceCell::new();
    /// assert!(cell.set(1).is_ok());
    /// assert!(cell.set(2).unwrap_err().is_already_init_err());
    /// ```
    ///
    /// # Errors
    /// [`SetError::AlreadyInitializedError`] if the value is set;
    /// [`SetError::InitializingError`] if a `get_or_init` is running its
    /// initialiser (or queued for it). Both give `value` back.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        match self.init.try_acquire(1) {
            Ok(()) => {
                let permit = Permit(&self.init);
                self.store(value);
                drop(permit);
                Ok(())
            }
            Err(TryAcquire::Closed) => Err(SetError::AlreadyInitializedError(value)),
            // An initialiser finished between the two checks?
            Err(TryAcquire::NoPermits) if self.initialized() => {
                Err(SetError::AlreadyInitializedError(value))
            }
            Err(TryAcquire::NoPermits) => Err(SetError::InitializingError(value)),
        }
    }

    /// The value, initialising it with `f().await` first if the cell is
    /// empty. One caller at a time runs its `f`, in FIFO order; the others
    /// wait and return the value it stored.
    ///
    /// Cancel-safe: if the future running `f` is dropped, or `f`'s future
    /// panics, the next waiting caller runs its own `f`.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let cell = keen::sync::OnceCell::new();
    ///     assert_eq!(*cell.get_or_init(|| async { 1 }).await, 1);
    ///     assert_eq!(*cell.get_or_init(|| async { 2 }).await, 1);
    /// });
    /// ```
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(f().await) })
            .await
        {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// As [`get_or_init`](Self::get_or_init), for an initialiser that can
    /// fail: an `Err` leaves the cell empty, is returned to this caller,
    /// and lets the next waiting caller try.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let cell = keen::sync::OnceCell::new();
    ///     let failed = cell.get_or_try_init(|| async { Err::<u8, _>("down") }).await;
    ///     assert_eq!(failed, Err("down"));
    ///     assert!(!cell.initialized());
    ///     let ok = cell.get_or_try_init(|| async { Ok::<_, &str>(7) }).await;
    ///     assert_eq!(ok, Ok(&7));
    /// });
    /// ```
    ///
    /// # Errors
    /// The error of this caller's initialiser.
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get() {
            return Ok(value);
        }
        if self.init.acquire(1).await.is_err() {
            // Closed: the value is set.
            return Ok(self.get().expect("a closed OnceCell holds its value"));
        }
        // Given back on every way out: error, panic, or this future dropped.
        let permit = Permit(&self.init);
        if self.get().is_none() {
            let value = f().await?;
            self.store(value);
        }
        drop(permit);
        Ok(self.get().expect("just stored"))
    }

    /// The value, consuming the cell.
    ///
    /// ```
    /// assert_eq!(keen::sync::OnceCell::new_with(Some(4)).into_inner(), Some(4));
    /// ```
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Takes the value out, leaving the cell empty and ready to be
    /// initialised again.
    ///
    /// ```
    /// let mut cell = keen::sync::OnceCell::new_with(Some(1));
    /// assert_eq!(cell.take(), Some(1));
    /// assert!(cell.set(2).is_ok());
    /// ```
    pub fn take(&mut self) -> Option<T> {
        let value = self.value.take();
        self.init = RawSemaphore::new(1);
        value
    }

    /// Stores the value and fails every waiting initialiser (they read
    /// the value). The caller is the only initialiser: it holds the permit,
    /// or owns the cell.
    fn store(&self, value: T) {
        assert!(
            self.value.set(value).is_ok(),
            "only the permit holder stores"
        );
        self.init.close();
    }
}

/// The initialiser's permit: given back when dropped (after a successful
/// store the semaphore is closed, so it is never used again).
struct Permit<'a>(&'a RawSemaphore);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.release(1);
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> OnceCell<T> {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> OnceCell<T> {
        OnceCell::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> OnceCell<T> {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &OnceCell<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

/// Error of [`OnceCell::set`], giving the value back.
///
/// ```
/// use keen::sync::{OnceCell, SetError};
/// let cell = OnceCell::new_with(Some(1));
/// assert_eq!(cell.set(2), Err(SetError::AlreadyInitializedError(2)));
/// ```
#[derive(Debug, PartialEq, Eq)]
pub enum SetError<T> {
    /// The value was already set.
    AlreadyInitializedError(T),
    /// An initialiser was running (or waiting to run).
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Whether this is [`SetError::AlreadyInitializedError`].
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether this is [`SetError::InitializingError`].
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SetError::AlreadyInitializedError(_) => "the OnceCell is already initialised",
            SetError::InitializingError(_) => "the OnceCell is being initialised",
        })
    }
}

impl<T: fmt::Debug> Error for SetError<T> {}
