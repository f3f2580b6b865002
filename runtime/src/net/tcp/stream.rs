//! [`TcpStream`]: a TCP connection registered with the runtime's reactor.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use socket2::SockRef;

use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::io::{Interest, IoSource, Ready};
use crate::net::addr::{ToSocketAddrs, each_addr};
use crate::net::stream::impl_stream;

/// A TCP connection. Read and write it through [`keen::io`](crate::io)'s
/// `AsyncReadExt`/`AsyncWriteExt` (futures-io), or with `try_read` /
/// `try_write` after `readable()` / `writable()`.
///
/// ```
/// use keen::io::{AsyncReadExt, AsyncWriteExt};
/// use keen::net::{TcpListener, TcpStream};
///
/// keen::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"hello").await?;
///     let mut buf = [0; 5];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hello");
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct TcpStream {
    pub(crate) io: IoSource<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying every address it names in turn (names
    /// are looked up on the blocking pool). Cancel-safe in the sense that
    /// dropping it closes the half-open socket and nothing else.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(addr, |addr| async move {
            TcpStream::connecting(mio::net::TcpStream::connect(addr)?).await
        })
        .await
    }

    /// Registers a socket whose connect is in progress and waits for it.
    pub(crate) async fn connecting(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        // No optimistic readiness: writability is what says "connected".
        let io = IoSource::with_ready(
            stream,
            Interest::READABLE | Interest::WRITABLE,
            Ready::EMPTY,
        )?;
        let stream = TcpStream { io };
        stream.wait_connected().await?;
        Ok(stream)
    }

    /// The connect finished when the socket turns writable (its
    /// readiness started empty, so only the kernel's event sets it).
    async fn wait_connected(&self) -> io::Result<()> {
        let event = self.io.registration().readiness(Interest::WRITABLE).await?;
        if let Some(err) = self.io.take_error()? {
            return Err(err);
        }
        // Writability without a hang-up is a finished connect; only a
        // hang-up that left no error behind needs a look at the peer to
        // name the failure (one system call fewer per connection than
        // always asking).
        if event.ready.is_write_closed() || event.ready.is_error() {
            self.io.peer_addr()?;
        }
        Ok(())
    }

    /// A stream from an accepted or connected mio stream.
    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: IoSource::new(stream)?,
        })
    }

    /// Registers a connected std stream with the current runtime (and
    /// puts it in non-blocking mode). An error outside any runtime.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Deregisters the stream and hands it back, still non-blocking.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(self.io.into_inner().into())
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }

    /// The pending socket error (`SO_ERROR`), if any, cleared.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.take_error()
    }

    /// Sets `TCP_NODELAY` (no Nagle batching of small writes).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.nodelay()
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.ttl()
    }

    /// Sets `SO_LINGER` (`Some(0)`: close with a reset).
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(&*self.io).set_linger(linger)
    }

    /// `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(&*self.io).linger()
    }

    /// Reads without removing, waiting until data (or end of file) is
    /// there. Cancel-safe.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .registration()
            .async_io(Interest::READABLE, || self.io.peek(buf))
            .await
    }

    /// Shuts down the read side, the write side, or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.shutdown(how)
    }
}

impl_stream!(TcpStream);

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// See [`TcpStream::from_std`].
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
