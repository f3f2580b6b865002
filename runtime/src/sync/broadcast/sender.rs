//! The sending half of a broadcast channel: it never waits; a full ring
//! overwrites its oldest value. And [`WeakSender`], a sender that does not
//! keep the channel open.

use std::fmt;
use std::sync::Arc;

use super::Receiver;
use super::error::SendError;
use super::ring::Shared;

/// Sends values to every receiver of a broadcast channel; clone it for
/// more senders. The channel closes for receivers (after they drain it)
/// when the last sender is dropped.
///
/// ```
/// keen::block_on(async {
///     let (tx, mut rx) = keen::sync::broadcast::channel(8);
///     let tx2 = tx.clone();
///     tx.send("a").unwrap();
///     tx2.send("b").unwrap();
///     assert_eq!(rx.recv().await.unwrap(), "a");
///     assert_eq!(rx.recv().await.unwrap(), "b");
/// });
/// ```
pub struct Sender<T> {
    pub(super) shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// A channel keeping the last `capacity` values (rounded up to a power
    /// of two), with no receiver yet; make them with
    /// [`subscribe`](Self::subscribe).
    ///
    /// # Panics
    /// As [`channel`](super::channel).
    ///
    /// ```
    /// let tx = keen::sync::broadcast::Sender::<u8>::new(4);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn new(capacity: usize) -> Sender<T> {
        Sender {
            shared: Arc::new(Shared::new(super::ring_size(capacity), 0)),
        }
    }

    /// Sends `value` to every receiver that exists now and returns how many
    /// that is. Never waits: when the ring is full the oldest value is
    /// overwritten (receivers that had not taken it get `Lagged`). Fails,
    /// handing `value` back, when no receiver exists.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::broadcast::channel(4);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.send(1).unwrap(), 2);
    /// # drop(rx);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        self.shared.send(value)
    }

    /// A new receiver that sees the values sent from now on.
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2));
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let next = self.shared.subscribe();
        Receiver::from_shared(self.shared.clone(), next)
    }

    /// How many receivers exist.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::broadcast::channel::<u8>(4);
    /// let rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// # drop((rx, rx2));
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receiver_count()
    }

    /// How many values are kept: sent, not yet taken by every receiver
    /// that existed at the time, and not overwritten.
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(tx.len(), 2);
    /// rx.try_recv().unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// Whether no value is kept (see [`len`](Self::len)).
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::broadcast::channel::<u8>(4);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Completes once no receiver exists. Cancel-safe.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, rx) = keen::sync::broadcast::channel::<u8>(4);
    ///     keen::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert_eq!(tx.receiver_count(), 0);
    /// });
    /// ```
    pub async fn closed(&self) {
        self.shared.closed().await;
    }

    /// Whether both senders belong to the same channel.
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::broadcast::channel::<u8>(4);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A [`WeakSender`] of this channel: it does not keep the channel open.
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::broadcast::channel::<u8>(4);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        self.shared.add_weak_sender();
        WeakSender {
            shared: self.shared.clone(),
        }
    }

    /// How many [`Sender`]s of this channel exist.
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::broadcast::channel::<u8>(4);
    /// let _tx2 = tx.clone();
    /// assert_eq!(tx.strong_count(), 2);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.shared.sender_counts().0
    }

    /// How many [`WeakSender`]s of this channel exist.
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::broadcast::channel::<u8>(4);
    /// let _weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.shared.sender_counts().1
    }
}

/// A sender that does not keep its channel open, as tokio's: when the last
/// [`Sender`] is dropped the channel closes for receivers even while weak
/// senders exist, and [`upgrade`](Self::upgrade) fails from then on. Made by
/// [`Sender::downgrade`]; cloning it makes another weak sender.
///
/// ```
/// keen::block_on(async {
///     let (tx, mut rx) = keen::sync::broadcast::channel(4);
///     let weak = tx.downgrade();
///     weak.upgrade().unwrap().send(1).unwrap();
///     drop(tx);
///     assert_eq!(rx.recv().await, Ok(1));
///     assert!(rx.recv().await.is_err(), "closed: the weak sender kept nothing open");
/// });
/// ```
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> WeakSender<T> {
    /// A [`Sender`], if one still exists (the channel is open); `None` once
    /// the last was dropped.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.shared.upgrade().then(|| Sender {
            shared: self.shared.clone(),
        })
    }

    /// How many [`Sender`]s of this channel exist.
    pub fn strong_count(&self) -> usize {
        self.shared.sender_counts().0
    }

    /// How many [`WeakSender`]s of this channel exist.
    pub fn weak_count(&self) -> usize {
        self.shared.sender_counts().1
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> WeakSender<T> {
        self.shared.add_weak_sender();
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.shared.drop_weak_sender();
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender").finish_non_exhaustive()
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

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}
