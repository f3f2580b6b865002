//! [`UnixStream`]: a Unix-domain stream connection.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::path::Path;

use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, SocketAddr, WriteHalf};
use crate::io::{Interest, IoSource, Ready};
use crate::net::stream::impl_stream;

/// A Unix-domain stream: the same methods, traits and rules as
/// [`TcpStream`](crate::net::TcpStream), minus the IP options. Writes use
/// `send` with `MSG_NOSIGNAL`, so a closed peer is `BrokenPipe`, never
/// SIGPIPE.
///
/// ```
/// use keen::io::{AsyncReadExt, AsyncWriteExt};
/// keen::block_on(async {
///     let (mut a, mut b) = keen::net::UnixStream::pair()?;
///     a.write_all(b"over a pair").await?;
///     drop(a);
///     let mut got = String::new();
///     b.read_to_string(&mut got).await?;
///     assert_eq!(got, "over a pair");
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct UnixStream {
    pub(crate) io: IoSource<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let stream = mio::net::UnixStream::connect(path)?;
        let io = IoSource::with_ready(
            stream,
            Interest::READABLE | Interest::WRITABLE,
            Ready::EMPTY,
        )?;
        let stream = UnixStream { io };
        let registration = stream.io.registration();
        loop {
            let event = registration.readiness(Interest::WRITABLE).await?;
            if let Some(err) = stream.io.take_error()? {
                return Err(err);
            }
            match stream.io.peer_addr() {
                Ok(_) => return Ok(stream),
                Err(err) if err.kind() == io::ErrorKind::NotConnected => {
                    if event.ready.is_write_closed() || event.ready.is_error() {
                        return Err(err);
                    }
                    registration.clear(event);
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// A connected pair of streams.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    pub(crate) fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: IoSource::new(stream)?,
        })
    }

    /// Registers a connected std stream (and puts it in non-blocking mode).
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    /// Deregisters the stream and hands it back, still non-blocking.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        let stream = self.io.into_inner();
        Ok(std::os::fd::OwnedFd::from(stream).into())
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }

    /// The pending socket error, if any, cleared.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.take_error()
    }

    /// Shuts down the read side, the write side, or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.shutdown(how)
    }
}

impl_stream!(UnixStream);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
