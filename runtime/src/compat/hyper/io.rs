//! hyper's `rt::Read`/`rt::Write` for every keen stream and stream half
//! (reads go straight into hyper's uninitialised buffer: one `recv`, no
//! zeroing), and [`FuturesIo`] for any futures-io stream.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::hyper::rt::{Read, ReadBufCursor, Write};
use futures_io::{AsyncRead, AsyncWrite};

use crate::net::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, Split, WriteHalf};
use crate::net::{TcpStream, UnixStream};

fn read_cursor<S: Split>(
    stream: &S,
    cx: &mut Context<'_>,
    mut buf: ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: `recv` only writes into the slice; it never de-initialises
    // a byte that was initialised.
    let unfilled = unsafe { buf.as_mut() };
    let n = ready!(stream.poll_read_uninit_ref(cx, unfilled))?;
    // SAFETY: `recv` returned `n`: the kernel wrote the first `n` bytes.
    unsafe { buf.advance(n) };
    Poll::Ready(Ok(()))
}

/// hyper `Read` for each `[generics] type => |self| its Split source`.
macro_rules! hyper_read {
    ($([$($g:tt)*] $ty:ty => |$s:ident| $src:expr),* $(,)?) => {$(
        impl<$($g)*> Read for $ty {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: ReadBufCursor<'_>) -> Poll<io::Result<()>> {
                let $s = &*self;
                read_cursor($src, cx, buf)
            }
        }
    )*};
}

/// hyper `Write` for each `[generics] type => |self| its Split source`.
/// Writes are unbuffered, so flushing has nothing to do; shutdown shuts
/// the stream's write side down.
macro_rules! hyper_write {
    ($([$($g:tt)*] $ty:ty => |$s:ident| $src:expr),* $(,)?) => {$(
        impl<$($g)*> Write for $ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                let $s = &*self;
                $src.poll_write_ref(cx, buf)
            }
            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $s = &*self;
                $src.poll_write_vectored_ref(cx, bufs)
            }
            fn is_write_vectored(&self) -> bool {
                true
            }
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $s = &*self;
                Poll::Ready($src.shutdown_write())
            }
        }
    )*};
}

hyper_read!(
    [] TcpStream => |s| s,
    [] UnixStream => |s| s,
    ['a, S: Split] ReadHalf<'a, S> => |h| h.0,
    [S: Split] OwnedReadHalf<S> => |h| &*h.0,
);
hyper_write!(
    [] TcpStream => |s| s,
    [] UnixStream => |s| s,
    ['a, S: Split] WriteHalf<'a, S> => |h| h.0,
    [S: Split] OwnedWriteHalf<S> => |h| &*h.inner,
);

/// Any futures-io stream as hyper's `Read`/`Write` (a TLS stream over a
/// keen socket, say). Reads zero the part of hyper's buffer they use
/// first, since a futures-io read takes initialised memory; keen's own
/// streams need no wrapper and skip that.
#[derive(Debug)]
pub struct FuturesIo<T>(pub T);

impl<T: AsyncRead + Unpin> Read for FuturesIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let n = ready!(Pin::new(&mut self.0).poll_read(cx, buf.initialize_unfilled()))?;
        // SAFETY: the first `n` bytes were initialised (zeroed above, then
        // written by the read).
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> Write for FuturesIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}
