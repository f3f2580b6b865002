//! The bounded channel's handles: [`Sender`] (waits for a free slot) and
//! [`Receiver`].

use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::chan::{Chan, Rx};
use super::error::{SendError, TryRecvError, TrySendError};
use crate::sync::thread_wait;

/// Creates a channel holding at most `buffer` queued messages; senders wait
/// (in FIFO order) while it is full.
///
/// ```
/// keen::block_on(async {
///     let (tx, mut rx) = keen::sync::mpsc::channel(8);
///     for i in 0..3 {
///         let tx = tx.clone();
///         keen::spawn(async move { tx.send(i).await.unwrap() });
///     }
///     drop(tx);
///     let mut got = Vec::new();
///     while let Some(i) = rx.recv().await {
///         got.push(i);
///     }
///     got.sort();
///     assert_eq!(got, [0, 1, 2]);
/// });
/// ```
///
/// # Panics
/// If `buffer` is 0 or above [`Semaphore::MAX_PERMITS`](crate::sync::Semaphore::MAX_PERMITS).
#[track_caller]
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(buffer > 0, "mpsc bounded channel requires buffer > 0");
    let chan = Arc::new(Chan::new(Some(buffer)));
    (
        Sender { chan: chan.clone() },
        Receiver { rx: Rx::new(chan) },
    )
}

/// Sends into a bounded channel; clone it for more producers. The channel
/// ends for the receiver when every sender is dropped.
///
/// ```
/// let (tx, mut rx) = keen::sync::mpsc::channel(1);
/// tx.try_send("hi").unwrap();
/// assert_eq!(rx.try_recv(), Ok("hi"));
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives from a bounded channel.
///
/// ```
/// keen::block_on(async {
///     let (tx, mut rx) = keen::sync::mpsc::channel(1);
///     tx.send(1).await.unwrap();
///     drop(tx);
///     assert_eq!(rx.recv().await, Some(1));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub struct Receiver<T> {
    rx: Rx<T>,
}

impl<T> Sender<T> {
    /// Waits for a free slot, then queues `value`.
    ///
    /// Dropping the future before it completes drops `value` unsent and
    /// passes any slot it was handed to the next waiting sender; no queued
    /// message is affected.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, mut rx) = keen::sync::mpsc::channel(1);
    ///     tx.send(1).await.unwrap();
    ///     assert_eq!(rx.recv().await, Some(1));
    /// });
    /// ```
    ///
    /// # Errors
    /// [`SendError`] with the value if the receiver is gone or closed.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.send(value).await
    }

    /// Queues `value` if a slot is free and no sender waits for one.
    ///
    /// ```
    /// use keen::sync::mpsc::error::TrySendError;
    /// let (tx, rx) = keen::sync::mpsc::channel(1);
    /// assert!(tx.try_send(1).is_ok());
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the value.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    /// Blocks this thread until there is room, then queues `value`; for
    /// code outside async context.
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::mpsc::channel(1);
    /// std::thread::spawn(move || {
    ///     tx.blocking_send(1).unwrap();
    ///     tx.blocking_send(2).unwrap(); // waits until 1 is received
    /// });
    /// assert_eq!(rx.blocking_recv(), Some(1));
    /// assert_eq!(rx.blocking_recv(), Some(2));
    /// assert_eq!(rx.blocking_recv(), None);
    /// ```
    ///
    /// # Errors
    /// [`SendError`] with the value if the receiver is gone or closed.
    ///
    /// # Panics
    /// When called inside a keen task or `block_on`.
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        thread_wait::block_on("mpsc::Sender::blocking_send", self.chan.send(value))
    }

    /// Waits until the receiver is dropped or closes the channel.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, rx) = keen::sync::mpsc::channel::<()>(1);
    ///     keen::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&self) {
        self.chan.closed().await;
    }

    /// Whether the receiver is dropped or closed the channel.
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::mpsc::channel::<()>(1);
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Free slots right now.
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::mpsc::channel(4);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(tx.capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.free_slots()
    }

    /// The buffer size the channel was created with.
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::mpsc::channel::<()>(4);
    /// assert_eq!(tx.max_capacity(), 4);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.max_capacity()
    }

    /// Whether both senders feed the same channel.
    ///
    /// ```
    /// let (tx, _rx) = keen::sync::mpsc::channel::<()>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> Receiver<T> {
    /// Waits for the next message; `None` once the queue is empty and
    /// every sender is gone (or the channel was closed).
    ///
    /// Cancel-safe: a message is taken only when this returns it.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, mut rx) = keen::sync::mpsc::channel(2);
    ///     keen::spawn(async move { tx.send("a").await.unwrap() });
    ///     assert_eq!(rx.recv().await, Some("a"));
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
    ///     let (tx, mut rx) = keen::sync::mpsc::channel(4);
    ///     for i in 0..3 {
    ///         tx.send(i).await.unwrap();
    ///     }
    ///     let mut buf = Vec::new();
    ///     assert_eq!(rx.recv_many(&mut buf, 10).await, 3);
    ///     assert_eq!(buf, [0, 1, 2]);
    /// });
    /// ```
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.rx.poll_recv_many(cx, buffer, limit)).await
    }

    /// Takes the next message if one is queued.
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::mpsc::channel(1);
    /// assert!(rx.try_recv().is_err());
    /// tx.try_send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
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
    /// let (tx, mut rx) = keen::sync::mpsc::channel(1);
    /// std::thread::spawn(move || tx.blocking_send(9).unwrap());
    /// assert_eq!(rx.blocking_recv(), Some(9));
    /// ```
    ///
    /// # Panics
    /// When called inside a keen task or `block_on`.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        thread_wait::block_on("mpsc::Receiver::blocking_recv", self.recv())
    }

    /// Polls for the next message, for hand-written futures.
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// let (tx, mut rx) = keen::sync::mpsc::channel(1);
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(rx.poll_recv(&mut cx).is_pending());
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }

    /// Closes the channel for senders (waiting ones fail); messages already
    /// queued can still be received.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, mut rx) = keen::sync::mpsc::channel(2);
    ///     tx.send(1).await.unwrap();
    ///     rx.close();
    ///     assert!(tx.send(2).await.is_err());
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn close(&mut self) {
        self.rx.chan().close();
    }

    /// Whether the channel is closed: [`close`](Self::close) was called or
    /// every sender is gone (queued messages may remain).
    ///
    /// ```
    /// let (tx, rx) = keen::sync::mpsc::channel::<()>(1);
    /// assert!(!rx.is_closed());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.rx.chan().is_closed_for_rx()
    }

    /// Messages queued now.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::mpsc::channel(3);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether no message is queued now.
    ///
    /// ```
    /// let (_tx, rx) = keen::sync::mpsc::channel::<()>(3);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer size the channel was created with.
    ///
    /// ```
    /// let (_tx, rx) = keen::sync::mpsc::channel::<()>(3);
    /// assert_eq!(rx.max_capacity(), 3);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.rx.chan().max_capacity()
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender")
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("len", &self.len())
            .finish()
    }
}
