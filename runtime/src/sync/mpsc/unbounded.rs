//! The unbounded channel's handles: [`UnboundedSender`] (never waits) and
//! [`UnboundedReceiver`].

use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::chan::{Chan, Rx};
use super::error::{SendError, TryRecvError};
use crate::sync::thread_wait;

/// Creates a channel without a bound: sending never waits, so a slow
/// receiver lets the queue grow without limit.
///
/// ```
/// keen::block_on(async {
///     let (tx, mut rx) = keen::sync::mpsc::unbounded_channel();
///     for i in 0..1000 {
///         tx.send(i).unwrap();
///     }
///     drop(tx);
///     let mut sum = 0;
///     while let Some(i) = rx.recv().await {
///         sum += i;
///     }
///     assert_eq!(sum, 499_500);
/// });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(None));
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver { rx: Rx::new(chan) },
    )
}

/// Sends into an unbounded channel; clone it for more producers.
///
/// ```
/// let (tx, mut rx) = keen::sync::mpsc::unbounded_channel();
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives from an unbounded channel.
///
/// ```
/// keen::block_on(async {
///     let (tx, mut rx) = keen::sync::mpsc::unbounded_channel();
///     tx.send('a').unwrap();
///     drop(tx);
///     assert_eq!(rx.recv().await, Some('a'));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub struct UnboundedReceiver<T> {
    rx: Rx<T>,
}

impl<T> UnboundedSender<T> {
    /// Queues `value` without waiting.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::mpsc::unbounded_channel();
    /// assert!(tx.send(1).is_ok());
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    ///
    /// # Errors
    /// [`SendError`] with the value if the receiver is gone or closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push(value)
    }

    /// Waits until the receiver is dropped or closes the channel.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, rx) = keen::sync::mpsc::unbounded_channel::<()>();
    ///     keen::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    /// });
    /// ```
    pub async fn closed(&self) {
        self.chan.closed().await;
    }

    /// Whether the receiver is dropped or closed the channel.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::mpsc::unbounded_channel::<()>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Whether both senders feed the same channel.
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::mpsc::unbounded_channel::<()>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> UnboundedSender<T> {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> UnboundedReceiver<T> {
    /// Waits for the next message; `None` once the queue is empty and
    /// every sender is gone (or the channel was closed).
    ///
    /// Cancel-safe: a message is taken only when this returns it.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, mut rx) = keen::sync::mpsc::unbounded_channel();
    ///     keen::spawn(async move { tx.send(1).unwrap() });
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.rx.poll_recv(cx)).await
    }

    /// Waits for messages and moves up to `limit` of them into `buffer`;
    /// returns how many, `0` meaning the channel ended (or `limit` is 0).
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, mut rx) = keen::sync::mpsc::unbounded_channel();
    ///     tx.send(1).unwrap();
    ///     tx.send(2).unwrap();
    ///     let mut buf = Vec::new();
    ///     assert_eq!(rx.recv_many(&mut buf, 1).await, 1);
    ///     assert_eq!(buf, [1]);
    /// });
    /// ```
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.rx.poll_recv_many(cx, buffer, limit)).await
    }

    /// Takes the next message if one is queued.
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::mpsc::unbounded_channel();
    /// tx.send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// assert!(rx.try_recv().is_err());
    /// ```
    ///
    /// # Errors
    /// [`TryRecvError::Empty`], or [`TryRecvError::Disconnected`] once no
    /// message can come any more.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.rx.try_recv()
    }

    /// Blocks this thread until a message comes or the channel ends; for
    /// code outside async context.
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::mpsc::unbounded_channel();
    /// std::thread::spawn(move || tx.send(9).unwrap());
    /// assert_eq!(rx.blocking_recv(), Some(9));
    /// assert_eq!(rx.blocking_recv(), None);
    /// ```
    ///
    /// # Panics
    /// When called inside a keen task or `block_on`.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        thread_wait::block_on("mpsc::UnboundedReceiver::blocking_recv", self.recv())
    }

    /// Polls for the next message, for hand-written futures.
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// let (tx, mut rx) = keen::sync::mpsc::unbounded_channel();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(rx.poll_recv(&mut cx).is_pending());
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }

    /// Closes the channel for senders; queued messages can still be
    /// received.
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.rx.chan().close();
    }

    /// Whether the channel is closed: [`close`](Self::close) was called or
    /// every sender is gone (queued messages may remain).
    ///
    /// ```
    /// let (tx, rx) = keen::sync::mpsc::unbounded_channel::<()>();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.rx.chan().is_closed_for_rx()
    }

    /// Messages queued now.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::mpsc::unbounded_channel();
    /// tx.send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether no message is queued now.
    ///
    /// ```
    /// let (_tx, rx) = keen::sync::mpsc::unbounded_channel::<()>();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedReceiver")
            .field("len", &self.len())
            .finish()
    }
}
