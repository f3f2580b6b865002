//! The receiving half of a watch channel: it remembers the version it has
//! seen, borrows the latest value, and waits for a newer one.

use std::fmt;
use std::sync::Arc;

use super::error::RecvError;
use super::shared::{CLOSED, Shared, VERSION_STEP, version_of};
use super::value_ref::Ref;

/// Watches a value; clone it for more watchers (a clone has seen what the
/// original has seen). It always reads the latest value: values sent while
/// it was not looking are skipped, never queued.
///
/// ```
/// keen::block_on(async {
///     let (tx, mut rx) = keen::sync::watch::channel("idle");
///     keen::spawn(async move {
///         tx.send("busy").unwrap();
///         tx.send("done").unwrap();
///     });
///     // Latest value wins: "busy" may never be seen.
///     rx.wait_for(|state| *state == "done").await.unwrap();
///     assert!(rx.changed().await.is_err(), "the sender is gone");
/// });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver has seen (no [`CLOSED`] bit).
    seen: usize,
}

impl<T> Receiver<T> {
    pub(super) fn from_shared(shared: Arc<Shared<T>>, seen: usize) -> Receiver<T> {
        Receiver { shared, seen }
    }

    /// Borrows the latest value without marking it seen; the `Ref` tells
    /// whether it is new to this receiver. Senders wait while it lives.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// assert!(rx.has_changed().unwrap(), "borrow does not mark it seen");
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let has_changed = self.shared.version() != self.seen;
        Ref::new(guard, has_changed)
    }

    /// Borrows the latest value and marks it seen.
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let version = self.shared.version();
        let has_changed = version != self.seen;
        self.seen = version;
        Ref::new(guard, has_changed)
    }

    /// Whether a value this receiver has not seen is there; an error once
    /// every sender is gone (as tokio: even if an unseen value remains,
    /// which `borrow` can still read).
    ///
    /// ```
    /// let (tx, rx) = keen::sync::watch::channel(1);
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(2).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// drop(tx);
    /// assert!(rx.has_changed().is_err());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state();
        if state & CLOSED != 0 {
            return Err(RecvError(()));
        }
        Ok(version_of(state) != self.seen)
    }

    /// Whether every sender is gone.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::watch::channel(());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.state() & CLOSED != 0
    }

    /// Makes the current value count as unseen: `has_changed` is `true`
    /// and `changed` completes at once.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (_tx, mut rx) = keen::sync::watch::channel(());
    ///     rx.mark_changed();
    ///     rx.changed().await.unwrap();
    /// });
    /// ```
    pub fn mark_changed(&mut self) {
        self.seen = self.seen.wrapping_sub(VERSION_STEP);
    }

    /// Makes the current value count as seen without borrowing it.
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// rx.mark_unchanged();
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version();
    }

    /// Waits for a value this receiver has not seen and marks it seen;
    /// completes at once if there already is one. Fails once every sender
    /// is gone and the latest value was seen.
    ///
    /// Cancel-safe: if the future is dropped before it completes, nothing
    /// was marked seen.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, mut rx) = keen::sync::watch::channel(0);
    ///     keen::spawn(async move { tx.send(1).unwrap() });
    ///     rx.changed().await.unwrap();
    ///     assert_eq!(*rx.borrow_and_update(), 1);
    ///     assert!(rx.changed().await.is_err());
    /// });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        self.shared.changed(&mut self.seen).await
    }

    /// Waits for a value for which `f` returns `true` and returns it,
    /// marked seen. `f` is first called on the current value (seen or
    /// not), then on the latest value after each change; values sent in
    /// between may be skipped. Fails once every sender is gone and `f`
    /// returned `false` for the last value.
    ///
    /// Cancel-safe: if dropped early, the last value marked seen (if any)
    /// is one for which `f` returned `false`.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, mut rx) = keen::sync::watch::channel(0);
    ///     keen::spawn(async move {
    ///         for i in 1..=10 {
    ///             tx.send(i).unwrap();
    ///             keen::task::yield_now().await;
    ///         }
    ///     });
    ///     let seen = *rx.wait_for(|&v| v >= 5).await.unwrap();
    ///     assert!(seen >= 5);
    /// });
    /// ```
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        // Disjoint borrows of the two fields, so the returned `Ref` can
        // borrow `shared` for as long as `&mut self` while `seen` changes.
        let shared: &Shared<T> = &self.shared;
        let seen = &mut self.seen;
        let mut closed = false;
        loop {
            {
                let guard = shared.value.read();
                let version = shared.version();
                let has_changed = version != *seen;
                *seen = version;
                // After the end, only a value not yet tried is worth a call.
                if (!closed || has_changed) && f(&guard) {
                    return Ok(Ref::new(guard, has_changed));
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            closed = shared.changed(seen).await.is_err();
        }
    }

    /// Whether both receivers belong to the same channel.
    ///
    /// ```
    /// let (_tx, rx) = keen::sync::watch::channel(());
    /// assert!(rx.same_channel(&rx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        self.shared.add_receiver();
        Receiver::from_shared(self.shared.clone(), self.seen)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.drop_receiver();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}
