//! [`TcpListener`]: a listening TCP socket registered with the runtime's
//! reactor.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll, ready};

use super::TcpStream;
use crate::io::{Direction, Interest, IoSource};
use crate::net::addr::{ToSocketAddrs, each_addr};

/// A TCP listener.
///
/// `accept` is cancel-safe: dropped before it completes (a timeout, a
/// cancelled scope), it has taken no connection, which waits for the next
/// `accept`. Several tasks may accept on one `&TcpListener`; each is woken.
///
/// An accept error such as `EMFILE` (out of fds) leaves the readiness as
/// it is, so the next `accept` tries at once: a server loop should back off
/// briefly on such errors rather than spin.
///
/// ```
/// use keen::net::TcpListener;
/// keen::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     assert_ne!(listener.local_addr().unwrap().port(), 0);
/// });
/// ```
pub struct TcpListener {
    io: IoSource<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (`SO_REUSEADDR` set, as std and tokio do), trying
    /// every address it names in turn; listens with a backlog of 1024.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(addr, |addr| async move {
            TcpListener::from_mio(mio::net::TcpListener::bind(addr)?)
        })
        .await
    }

    pub(crate) fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: IoSource::with_ready(listener, Interest::READABLE, crate::io::Ready::READABLE)?,
        })
    }

    /// Waits for a connection. Cancel-safe; every waiting task is woken.
    /// The stream is registered at once and may already hold data: a
    /// handler spawned with it reads in its first (eager) poll.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self
            .io
            .registration()
            .async_io(Interest::READABLE, || self.io.accept())
            .await?;
        Ok((TcpStream::from_mio(stream)?, addr))
    }

    /// Polls for a connection (one waiter: the last task to poll).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, addr) = ready!(
            self.io
                .registration()
                .poll_io(cx, Direction::Read, || self.io.accept())
        )?;
        Poll::Ready(TcpStream::from_mio(stream).map(|stream| (stream, addr)))
    }

    /// Registers a bound, listening std listener with the current runtime
    /// (and puts it in non-blocking mode).
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    /// Deregisters the listener and hands it back, still non-blocking.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.io.into_inner().into())
    }

    /// The local address (with the port the system chose for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// Sets the IP time-to-live of accepted connections.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.ttl()
    }

    /// The pending socket error, if any, cleared.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.take_error()
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// See [`TcpListener::from_std`].
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }
}

impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.as_raw_fd()
    }
}

impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&*self.io)
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
