//! [`Ref`]: a read borrow of a watch channel's value.

use std::fmt;
use std::ops::Deref;

use crate::loom::RwLockReadGuard;

/// The channel's value, borrowed under its read lock: senders wait until
/// it is dropped, so keep it short (and never hold it across an `.await`).
///
/// ```
/// let (tx, mut rx) = keen::sync::watch::channel(String::from("a"));
/// tx.send("b".into()).unwrap();
/// let value = rx.borrow_and_update();
/// assert_eq!(*value, "b");
/// assert!(value.has_changed());
/// ```
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<'a, T> Ref<'a, T> {
    pub(super) fn new(guard: RwLockReadGuard<'a, T>, has_changed: bool) -> Ref<'a, T> {
        Ref { guard, has_changed }
    }

    /// Whether this value was not yet seen by the receiver that borrowed
    /// it, when it was borrowed (always `false` for a sender's borrow).
    /// For `borrow_and_update` and `wait_for` it tells whether the call
    /// marked a new value seen.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::watch::channel(1);
    /// assert!(!rx.borrow().has_changed());
    /// tx.send(2).unwrap();
    /// assert!(rx.borrow().has_changed());
    /// assert!(!tx.borrow().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
