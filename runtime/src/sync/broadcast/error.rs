//! The errors of [`broadcast`](super) channels, where tokio has them
//! (`broadcast::error::…`).

use std::fmt;

/// [`Sender::send`](super::Sender::send) failed because no receiver
/// exists; holds the value.
///
/// ```
/// let (tx, rx) = keen::sync::broadcast::channel(4);
/// drop(rx);
/// let err = tx.send(3).unwrap_err();
/// assert_eq!(err.0, 3);
/// assert_eq!(err.to_string(), "channel closed");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Error of [`Receiver::recv`](super::Receiver::recv).
///
/// ```
/// use keen::sync::broadcast::{channel, error::RecvError};
/// keen::block_on(async {
///     let (tx, mut rx) = channel(2);
///     for i in 0..5 {
///         tx.send(i).unwrap();
///     }
///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
///     assert_eq!(rx.recv().await, Ok(3));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and every value was received.
    Closed,
    /// The receiver fell behind: this many values were overwritten before
    /// it took them. The next `recv` returns the oldest value kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("channel closed"),
            RecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Error of [`Receiver::try_recv`](super::Receiver::try_recv).
///
/// ```
/// use keen::sync::broadcast::{channel, error::TryRecvError};
/// let (tx, mut rx) = channel::<u8>(2);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value now; more may come.
    Empty,
    /// Every sender is gone and every value was received.
    Closed,
    /// The receiver fell behind by this many values (see
    /// [`RecvError::Lagged`]).
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Closed => f.write_str("channel closed"),
            TryRecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
        }
    }
}

impl std::error::Error for TryRecvError {}
