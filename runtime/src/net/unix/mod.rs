//! Unix-domain sockets: [`UnixListener`], [`UnixStream`], [`UnixDatagram`],
//! and the halves of a split stream. Addresses are std's
//! [`SocketAddr`].

mod datagram;
mod listener;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use std::os::unix::net::SocketAddr;
pub use stream::UnixStream;

/// The read half of a [`UnixStream`] borrowed by [`UnixStream::split`].
pub type ReadHalf<'a> = crate::net::split::ReadHalf<'a, UnixStream>;
/// The write half of a [`UnixStream`] borrowed by [`UnixStream::split`].
pub type WriteHalf<'a> = crate::net::split::WriteHalf<'a, UnixStream>;
/// The read half of a [`UnixStream`] taken apart by [`UnixStream::into_split`].
pub type OwnedReadHalf = crate::net::split::OwnedReadHalf<UnixStream>;
/// The write half of a [`UnixStream`] taken apart by [`UnixStream::into_split`].
pub type OwnedWriteHalf = crate::net::split::OwnedWriteHalf<UnixStream>;
/// Halves of two different streams given to `reunite`.
pub type ReuniteError = crate::net::split::ReuniteError<UnixStream>;
