//! The errors of [`watch`](super) channels, where tokio has them
//! (`watch::error::…`).

use std::fmt;

/// [`Sender::send`](super::Sender::send) failed because no receiver is
/// left; holds the value, which was not stored.
///
/// ```
/// let (tx, rx) = keen::sync::watch::channel(0);
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

/// Waiting for a change failed: every sender is gone and the receiver has
/// seen the last value.
///
/// ```
/// keen::block_on(async {
///     let (tx, mut rx) = keen::sync::watch::channel(0);
///     drop(tx);
///     let err = rx.changed().await.unwrap_err();
///     assert_eq!(err.to_string(), "channel closed");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(pub(super) ());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl std::error::Error for RecvError {}
