//! The receiving half of a broadcast channel, and the future of
//! [`Receiver::recv`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::error::{RecvError, TryRecvError};
use super::ring::Shared;
use crate::sync::thread_wait;

/// Receives every value sent after it subscribed, in order, each as its
/// own clone. Not `Clone` (as in tokio): [`resubscribe`](Self::resubscribe)
/// makes a receiver that starts at the tail.
///
/// ```
/// use keen::sync::broadcast::{self, error::RecvError};
///
/// keen::block_on(async {
///     let (tx, mut rx) = broadcast::channel(16);
///     let mut rx2 = tx.subscribe();
///     let counter = keen::spawn(async move {
///         let mut n = 0;
///         while rx2.recv().await.is_ok() {
///             n += 1;
///         }
///         n
///     });
///     for i in 0..10 {
///         tx.send(i).unwrap();
///     }
///     drop(tx);
///     assert_eq!(counter.await.unwrap(), 10);
///     assert_eq!(rx.recv().await, Ok(0));
///     # while rx.recv().await.is_ok() {}
///     assert_eq!(rx.recv().await, Err(RecvError::Closed));
/// });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// Position of the next value to take.
    next: u64,
}

impl<T> Receiver<T> {
    pub(super) fn from_shared(shared: Arc<Shared<T>>, next: u64) -> Receiver<T> {
        Receiver { shared, next }
    }

    /// A new receiver of the same channel that sees only values sent from
    /// now on (not the ones this one has yet to take).
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut fresh = rx.resubscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(fresh.try_recv(), Ok(2));
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        let next = self.shared.subscribe();
        Receiver::from_shared(self.shared.clone(), next)
    }

    /// Values sent that this receiver has not taken yet. More than the
    /// capacity means the next `recv` reports `Lagged`.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.pending_for(self.next)
    }

    /// Whether this receiver has taken every value sent.
    ///
    /// ```
    /// let (_tx, rx) = keen::sync::broadcast::channel::<u8>(4);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sender is gone (values may still be left to take).
    ///
    /// ```
    /// let (tx, rx) = keen::sync::broadcast::channel::<u8>(4);
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// Whether both receivers belong to the same channel.
    ///
    /// ```
    /// let (_tx, rx) = keen::sync::broadcast::channel::<u8>(4);
    /// assert!(rx.same_channel(&rx.resubscribe()));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// How many senders of this channel exist.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::broadcast::channel::<u8>(4);
    /// assert_eq!(rx.sender_strong_count(), 1);
    /// drop(tx);
    /// assert_eq!(rx.sender_strong_count(), 0);
    /// ```
    pub fn sender_strong_count(&self) -> usize {
        self.shared.sender_counts().0
    }

    /// How many weak senders of this channel exist.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::broadcast::channel::<u8>(4);
    /// let _weak = tx.downgrade();
    /// assert_eq!(rx.sender_weak_count(), 1);
    /// ```
    pub fn sender_weak_count(&self) -> usize {
        self.shared.sender_counts().1
    }
}

impl<T: Clone> Receiver<T> {
    /// Waits for the next value. Fails with `Lagged(n)` when `n` values
    /// were overwritten before this receiver took them (the next call
    /// returns the oldest value kept), and with `Closed` once every sender
    /// is gone and every value was taken.
    ///
    /// Cancel-safe: a value is taken only when `recv` returns it.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, mut rx) = keen::sync::broadcast::channel(4);
    ///     keen::spawn(async move { tx.send(9).unwrap() });
    ///     assert_eq!(rx.recv().await, Ok(9));
    /// });
    /// ```
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv {
            rx: self,
            key: None,
        }
        .await
    }

    /// Takes the next value if there is one now.
    ///
    /// ```
    /// use keen::sync::broadcast::{channel, error::TryRecvError};
    /// let (tx, mut rx) = channel(4);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.shared.try_recv(&mut self.next)
    }

    /// [`recv`](Self::recv) for a plain thread: parks it until a value or
    /// an error comes.
    ///
    /// # Panics
    /// In async context (inside a keen task or `block_on`).
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::broadcast::channel(4);
    /// let t = std::thread::spawn(move || rx.blocking_recv());
    /// tx.send(5).unwrap();
    /// assert_eq!(t.join().unwrap(), Ok(5));
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        thread_wait::block_on("broadcast::Receiver::blocking_recv", self.recv())
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.drop_receiver(self.next);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// Future of [`Receiver::recv`]: queued in the channel's `recv_waiters`
/// while nothing is there; every send wakes all of them (`ring.rs`).
struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
    key: Option<usize>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let rx = &mut *this.rx;
        rx.shared
            .poll_recv(&mut rx.next, &mut this.key, cx)
            .map(|out| {
                out.map_err(|e| match e {
                    TryRecvError::Closed => RecvError::Closed,
                    TryRecvError::Lagged(n) => RecvError::Lagged(n),
                    TryRecvError::Empty => unreachable!("an empty channel queues the recv"),
                })
            })
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.rx.shared.cancel_recv(self.rx.next, key);
        }
    }
}
