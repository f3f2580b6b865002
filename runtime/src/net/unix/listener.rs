//! [`UnixListener`]: a listening Unix-domain stream socket.

use std::fmt;
use std::io;
use std::path::Path;
use std::task::{Context, Poll, ready};

use super::{SocketAddr, UnixStream};
use crate::io::{Direction, Interest, IoSource, Ready};

/// A Unix-domain listener. `accept` is cancel-safe, as
/// [`TcpListener::accept`](crate::net::TcpListener::accept).
pub struct UnixListener {
    io: IoSource<mio::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` and listens; registers with the current runtime
    /// (an error outside any runtime).
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        UnixListener::from_mio(mio::net::UnixListener::bind(path)?)
    }

    fn from_mio(listener: mio::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: IoSource::with_ready(listener, Interest::READABLE, Ready::READABLE)?,
        })
    }

    /// Registers a listening std listener (and puts it in non-blocking
    /// mode).
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_mio(mio::net::UnixListener::from_std(listener))
    }

    /// Deregisters the listener and hands it back, still non-blocking.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_inner().into())
    }

    /// Waits for a connection. Cancel-safe; every waiting task is woken.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self
            .io
            .registration()
            .async_io(Interest::READABLE, || self.io.accept())
            .await?;
        Ok((UnixStream::from_mio(stream)?, addr))
    }

    /// Polls for a connection (one waiter: the last task to poll).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, addr) = ready!(
            self.io
                .registration()
                .poll_io(cx, Direction::Read, || self.io.accept())
        )?;
        Poll::Ready(UnixStream::from_mio(stream).map(|stream| (stream, addr)))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// The pending socket error, if any, cleared.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.take_error()
    }
}

impl std::os::fd::AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.as_raw_fd()
    }
}

impl std::os::fd::AsFd for UnixListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&*self.io)
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
