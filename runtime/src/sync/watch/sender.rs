//! The sending half of a watch channel: it replaces or edits the one
//! value and wakes every receiver waiting for a change.

use std::fmt;
use std::sync::Arc;

use super::Receiver;
use super::error::SendError;
use super::shared::Shared;
use super::value_ref::Ref;

/// Sends new values into a watch channel; clone it for more senders. The
/// channel closes for receivers when the last sender is dropped.
///
/// ```
/// keen::block_on(async {
///     let (tx, mut rx) = keen::sync::watch::channel(0);
///     tx.send_modify(|v| *v += 5);
///     rx.changed().await.unwrap();
///     assert_eq!(*rx.borrow(), 5);
/// });
/// ```
pub struct Sender<T> {
    pub(super) shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// A channel holding `init` with no receiver yet; make them with
    /// [`subscribe`](Self::subscribe).
    ///
    /// ```
    /// let tx = keen::sync::watch::Sender::new(1);
    /// assert_eq!(tx.receiver_count(), 0);
    /// let rx = tx.subscribe();
    /// assert_eq!(*rx.borrow(), 1);
    /// ```
    pub fn new(init: T) -> Sender<T> {
        super::channel(init).0
    }

    /// Stores `value` and notifies every receiver; fails, handing `value`
    /// back without storing it, when no receiver is left. (The other send
    /// methods store even then.)
    ///
    /// ```
    /// let (tx, rx) = keen::sync::watch::channel("a");
    /// tx.send("b").unwrap();
    /// assert_eq!(*rx.borrow(), "b");
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Edits the value in place and notifies every receiver, even if
    /// nothing was changed or no receiver exists.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Edits the value in place; receivers are notified only if `modify`
    /// returns `true`, which is also what this returns. If `modify` panics,
    /// nobody is notified (its edits so far stay).
    ///
    /// ```
    /// let (tx, rx) = keen::sync::watch::channel(1);
    /// assert!(!tx.send_if_modified(|v| *v > 5));
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|v| { *v = 6; true }));
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        {
            let mut value = self.shared.value.write();
            if !modify(&mut value) {
                return false;
            }
            self.shared.bump_version();
        }
        self.shared.notify_changed();
        true
    }

    /// Stores `value`, notifies every receiver, and returns the old value;
    /// works with no receiver, too.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::watch::channel(1);
    /// drop(rx);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let mut value = Some(value);
        let mut old = None;
        self.send_modify(|current| old = Some(std::mem::replace(current, value.take().unwrap())));
        old.expect("send_modify ran the closure")
    }

    /// Borrows the current value (its [`Ref::has_changed`] is `false`).
    /// Senders wait while the borrow lives.
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::watch::channel(7);
    /// assert_eq!(*tx.borrow(), 7);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref::new(self.shared.value.read(), false)
    }

    /// A new receiver that has seen the current value (its `changed` waits
    /// for the next send). Subscribing reopens a channel whose receivers
    /// were all dropped.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// let fresh = tx.subscribe();
    /// assert!(rx.has_changed().unwrap());
    /// assert!(!fresh.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.add_receiver();
        let version = self.shared.version();
        Receiver::from_shared(self.shared.clone(), version)
    }

    /// How many receivers exist.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::watch::channel(());
    /// let rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// # drop((rx, rx2));
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receiver_count()
    }

    /// How many senders exist (this one included).
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::watch::channel(());
    /// let tx2 = tx.clone();
    /// assert_eq!(tx2.sender_count(), 2);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.shared.sender_count()
    }

    /// Whether every receiver is gone (then `send` fails).
    ///
    /// ```
    /// let (tx, rx) = keen::sync::watch::channel(());
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Completes once every receiver is gone. Cancel-safe. If the channel
    /// is closed only briefly (the last receiver dropped, then `subscribe`
    /// called) it may or may not complete, as in tokio.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, rx) = keen::sync::watch::channel(());
    ///     keen::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&self) {
        self.shared.closed().await;
    }

    /// Whether both senders belong to the same channel.
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::watch::channel(());
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.add_sender();
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.drop_sender();
    }
}

// No borrow of the value: formatting inside a borrow must not deadlock.
impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("version", &self.shared.version())
            .field("receivers", &self.receiver_count())
            .finish_non_exhaustive()
    }
}
