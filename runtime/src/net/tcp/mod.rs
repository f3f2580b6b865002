//! TCP: [`TcpListener`], [`TcpStream`], [`TcpSocket`], and the halves of a
//! split stream.

mod listener;
mod socket;
mod stream;

pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use stream::TcpStream;

/// The read half of a [`TcpStream`] borrowed by [`TcpStream::split`].
pub type ReadHalf<'a> = crate::net::split::ReadHalf<'a, TcpStream>;
/// The write half of a [`TcpStream`] borrowed by [`TcpStream::split`].
pub type WriteHalf<'a> = crate::net::split::WriteHalf<'a, TcpStream>;
/// The read half of a [`TcpStream`] taken apart by [`TcpStream::into_split`].
pub type OwnedReadHalf = crate::net::split::OwnedReadHalf<TcpStream>;
/// The write half of a [`TcpStream`] taken apart by [`TcpStream::into_split`].
pub type OwnedWriteHalf = crate::net::split::OwnedWriteHalf<TcpStream>;
/// Halves of two different streams given to `reunite`.
pub type ReuniteError = crate::net::split::ReuniteError<TcpStream>;
