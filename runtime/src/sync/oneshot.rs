//! A channel for sending one value between tasks or threads, shaped like
//! `tokio::sync::oneshot`: [`channel`], [`Sender::send`], a [`Receiver`]
//! that is a future, [`Receiver::blocking_recv`], and closed detection from
//! both ends.
//!
//! The shared state is one small struct under a `parking_lot` mutex (the
//! `crate::loom` shim's, so the loom models check it): a
//! value slot, the receiver's waker, the sender's waker (for
//! [`Sender::closed`]) and two flags.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::thread_wait;
use crate::loom::{Mutex, MutexGuard};

/// Creates a connected sender and receiver.
///
/// ```
/// keen::block_on(async {
///     let (tx, rx) = keen::sync::oneshot::channel();
///     keen::spawn(async move { tx.send("reply").unwrap() });
///     assert_eq!(rx.await.unwrap(), "reply");
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Mutex::new(State {
        value: None,
        sender_done: false,
        receiver_closed: false,
        rx_waker: None,
        tx_waker: None,
    }));
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner, done: false },
    )
}

struct State<T> {
    value: Option<T>,
    /// The sender sent or was dropped: nothing more will come.
    sender_done: bool,
    /// The receiver was dropped or closed: sending will fail.
    receiver_closed: bool,
    rx_waker: Option<Waker>,
    tx_waker: Option<Waker>,
}

/// Stores `waker` in `slot` unless it already wakes the same task.
fn store(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(old) if old.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

/// Sends the value; dropping it unsent closes the channel.
///
/// ```
/// let (tx, mut rx) = keen::sync::oneshot::channel::<u8>();
/// drop(tx);
/// assert!(rx.try_recv().is_err());
/// ```
pub struct Sender<T> {
    /// `None` once `send` ran, so the drop that follows skips the lock.
    inner: Option<Arc<Mutex<State<T>>>>,
}

/// Receives the value: `.await` it (it is a [`Future`]), poll it with
/// [`try_recv`](Receiver::try_recv), or block a plain thread with
/// [`blocking_recv`](Receiver::blocking_recv).
///
/// Awaiting is cancel-safe: a value that arrives is kept until taken, so
/// polling the receiver again (or through `&mut`) still gets it.
///
/// ```
/// keen::block_on(async {
///     let (tx, rx) = keen::sync::oneshot::channel();
///     tx.send(1).unwrap();
///     assert_eq!(rx.await, Ok(1));
/// });
/// ```
pub struct Receiver<T> {
    inner: Arc<Mutex<State<T>>>,
    /// Polling returned `Ready`: the sender is finished, so dropping needs
    /// to tell nobody.
    done: bool,
}

/// Public error types, as in tokio.
pub mod error {
    use std::fmt;

    /// The sender was dropped without sending.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (tx, rx) = keen::sync::oneshot::channel::<()>();
    ///     drop(tx);
    ///     assert_eq!(rx.await.unwrap_err().to_string(), "channel closed");
    /// });
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct RecvError(pub(super) ());

    /// Error of [`Receiver::try_recv`](super::Receiver::try_recv).
    ///
    /// ```
    /// use keen::sync::oneshot::{channel, error::TryRecvError};
    /// let (tx, mut rx) = channel::<u8>();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TryRecvError {
        /// Nothing sent yet.
        Empty,
        /// The sender was dropped without sending, or the value was taken.
        Closed,
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self {
                TryRecvError::Empty => "channel empty",
                TryRecvError::Closed => "channel closed",
            })
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, TryRecvError};

impl<T> Sender<T> {
    /// Sends `value`, or gives it back if the receiver is gone or closed.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(5), Err(5));
    /// ```
    ///
    /// # Errors
    /// `Err(value)` if the receiver was dropped or closed.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("a sender sends once");
        let waker = {
            let mut state = inner.lock();
            if state.receiver_closed {
                return Err(value);
            }
            state.value = Some(value);
            state.sender_done = true;
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Whether the receiver was dropped or closed (a send would fail).
    ///
    /// ```
    /// let (tx, rx) = keen::sync::oneshot::channel::<()>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state().receiver_closed
    }

    fn state(&self) -> MutexGuard<'_, State<T>> {
        self.inner.as_ref().expect("only `send` takes it").lock()
    }

    /// Waits until the receiver is dropped or closed, for a producer that
    /// wants to stop computing a value nobody will read.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let (mut tx, rx) = keen::sync::oneshot::channel::<()>();
    ///     keen::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    /// });
    /// ```
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await;
    }

    /// Polls for the receiver's closing; stores the waker while it is open.
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// let (mut tx, rx) = keen::sync::oneshot::channel::<()>();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(tx.poll_closed(&mut cx).is_pending());
    /// drop(rx);
    /// assert!(tx.poll_closed(&mut cx).is_ready());
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state();
        if state.receiver_closed {
            return Poll::Ready(());
        }
        store(&mut state.tx_waker, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let waker = {
            let mut state = inner.lock();
            if state.sender_done {
                return;
            }
            state.sender_done = true;
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it was sent.
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::oneshot::channel();
    /// tx.send('x').unwrap();
    /// assert_eq!(rx.try_recv(), Ok('x'));
    /// ```
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] before the send; [`TryRecvError::Closed`]
    /// if the sender was dropped unsent, the receiver closed the channel
    /// with nothing sent, or the value was already taken.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.inner.lock();
        match state.value.take() {
            Some(value) => Ok(value),
            None if state.sender_done || state.receiver_closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Closes the channel from the receiving side: a later `send` fails,
    /// a value already sent can still be taken.
    ///
    /// ```
    /// let (tx, mut rx) = keen::sync::oneshot::channel::<u8>();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn close(&mut self) {
        let waker = {
            let mut state = self.inner.lock();
            state.receiver_closed = true;
            state.tx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether no value can arrive any more (sent and taken, sender gone,
    /// or closed with nothing sent).
    ///
    /// ```
    /// let (tx, rx) = keen::sync::oneshot::channel::<u8>();
    /// assert!(!rx.is_terminated());
    /// drop(tx);
    /// assert!(rx.is_terminated());
    /// ```
    pub fn is_terminated(&self) -> bool {
        let state = self.inner.lock();
        state.value.is_none() && (state.sender_done || state.receiver_closed)
    }

    /// Blocks this thread until the value arrives, for code outside async
    /// context.
    ///
    /// ```
    /// let (tx, rx) = keen::sync::oneshot::channel();
    /// std::thread::spawn(move || tx.send(3).unwrap());
    /// assert_eq!(rx.blocking_recv(), Ok(3));
    /// ```
    ///
    /// # Errors
    /// [`RecvError`] if the sender was dropped unsent.
    ///
    /// # Panics
    /// When called inside a keen task or `block_on`.
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        thread_wait::block_on("oneshot::Receiver::blocking_recv", self)
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = this.inner.lock();
        let out = if let Some(value) = state.value.take() {
            Ok(value)
        } else if state.sender_done || state.receiver_closed {
            Err(RecvError(()))
        } else {
            store(&mut state.rx_waker, cx.waker());
            return Poll::Pending;
        };
        this.done = state.sender_done;
        Poll::Ready(out)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (waker, value) = {
            let mut state = self.inner.lock();
            state.receiver_closed = true;
            (state.tx_waker.take(), state.value.take())
        };
        // The unread value is dropped here, outside the lock.
        drop(value);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver")
            .field("terminated", &self.is_terminated())
            .finish()
    }
}
