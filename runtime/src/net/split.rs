//! The halves of a stream, shared by TCP and Unix streams: borrowed
//! ([`ReadHalf`], [`WriteHalf`], from `split(&mut self)`, free) and owned
//! ([`OwnedReadHalf`], [`OwnedWriteHalf`], from `into_split(self)`, one
//! `Arc`). Reading and writing use the stream's two separate waiter slots,
//! so one task may read while another writes. Dropping an owned write half
//! shuts the write side down, as in tokio (unless [`forget`](OwnedWriteHalf::forget)).
//! A half reaches its stream's other methods through `as_ref()`.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

pub(crate) mod sealed {
    use super::*;

    /// What a splittable stream provides its halves (sealed).
    pub trait Split: Send + Sync + 'static {
        #[doc(hidden)]
        fn poll_read_ref(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
        #[doc(hidden)]
        fn poll_read_uninit_ref(
            &self,
            cx: &mut Context<'_>,
            buf: &mut [std::mem::MaybeUninit<u8>],
        ) -> Poll<io::Result<usize>>;
        #[doc(hidden)]
        fn poll_read_vectored_ref(
            &self,
            cx: &mut Context<'_>,
            bufs: &mut [IoSliceMut<'_>],
        ) -> Poll<io::Result<usize>>;
        #[doc(hidden)]
        fn poll_write_ref(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
        #[doc(hidden)]
        fn poll_write_vectored_ref(
            &self,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>>;
        #[doc(hidden)]
        fn shutdown_write(&self) -> io::Result<()>;
    }
}

pub(crate) use sealed::Split;

/// The read half of a stream borrowed by `split`.
pub struct ReadHalf<'a, S>(pub(crate) &'a S);

/// The write half of a stream borrowed by `split`. Closing it shuts the
/// stream's write side down.
pub struct WriteHalf<'a, S>(pub(crate) &'a S);

/// The read half of a stream taken apart by `into_split`.
pub struct OwnedReadHalf<S>(pub(crate) Arc<S>);

/// The write half of a stream taken apart by `into_split`. Dropping it
/// shuts the write side down (the peer reads end of file).
pub struct OwnedWriteHalf<S> {
    pub(crate) inner: Arc<S>,
    /// The stream's write shutdown, run on drop; `None` once forgotten or
    /// reunited. (A function pointer, because a `Drop` impl cannot ask for
    /// the `Split` bound the struct does not carry.)
    pub(crate) shutdown_on_drop: Option<fn(&S) -> io::Result<()>>,
}

/// Two halves of different streams were given to `reunite`; here they are
/// back.
pub struct ReuniteError<S>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

/// Splits an owned stream.
pub(crate) fn into_split<S: Split>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let inner = Arc::new(stream);
    (
        OwnedReadHalf(inner.clone()),
        OwnedWriteHalf {
            inner,
            shutdown_on_drop: Some(S::shutdown_write),
        },
    )
}

impl<S: Split> OwnedReadHalf<S> {
    /// Puts the stream back together; fails if the halves are of two
    /// different streams.
    pub fn reunite(self, other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.0, &other.inner) {
            return Err(ReuniteError(self, other));
        }
        let mut other = other;
        other.shutdown_on_drop = None;
        drop(other);
        Ok(Arc::try_unwrap(self.0)
            .unwrap_or_else(|_| unreachable!("the two halves held the only references")))
    }
}

impl<S: Split> OwnedWriteHalf<S> {
    /// Puts the stream back together; see [`OwnedReadHalf::reunite`].
    pub fn reunite(self, other: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        other.reunite(self)
    }

    /// Drops the half without shutting the write side down.
    pub fn forget(mut self) {
        self.shutdown_on_drop = None;
    }
}

impl<S> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown_on_drop {
            // The peer may be gone already; nothing to report to.
            let _ = shutdown(&self.inner);
        }
    }
}

macro_rules! as_ref {
    ($($half:ident $(<$lt:lifetime>)?),*) => {$(
        impl<$($lt,)? S> AsRef<S> for $half<$($lt,)? S> {
            fn as_ref(&self) -> &S {
                &self.0
            }
        }
    )*};
}
as_ref!(ReadHalf<'a>, WriteHalf<'a>, OwnedReadHalf);

impl<S> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: Split> AsyncRead for ReadHalf<'_, S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_ref(cx, buf)
    }
    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_vectored_ref(cx, bufs)
    }
}

impl<S: Split> AsyncRead for OwnedReadHalf<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_ref(cx, buf)
    }
    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_vectored_ref(cx, bufs)
    }
}

impl<S: Split> AsyncWrite for WriteHalf<'_, S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_ref(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_vectored_ref(cx, bufs)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.0.shutdown_write())
    }
}

impl<S: Split> AsyncWrite for OwnedWriteHalf<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_ref(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_vectored_ref(cx, bufs)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.inner.shutdown_write())
    }
}

macro_rules! debug {
    ($($half:ident $(<$lt:lifetime>)?),*) => {$(
        impl<$($lt,)? S: fmt::Debug> fmt::Debug for $half<$($lt,)? S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($half)).field(&self.as_ref()).finish()
            }
        }
    )*};
}
debug!(ReadHalf<'a>, WriteHalf<'a>, OwnedReadHalf, OwnedWriteHalf);

impl<S> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same stream")
    }
}

impl<S> std::error::Error for ReuniteError<S> {}
