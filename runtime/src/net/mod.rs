//! `keen::net`: TCP, UDP and Unix-domain sockets on the runtime's reactor,
//! with tokio's names and meanings (`TcpListener::bind(..).await`,
//! `listener.accept().await`, `TcpStream::connect(..).await`, `split`,
//! `into_split`, `readable`/`try_read`, …).
//!
//! Every socket registers with the reactor of the runtime current where it
//! is created: creating one outside any runtime returns an error naming the
//! fix, and one used after its runtime shut down returns an error saying
//! so (never a panic, never a hang). `docs/io.md` states the cancel-safety
//! rules; in short, `accept`, reads, `recv(_from)`, `peek` and the
//! readiness futures lose nothing when dropped before they complete.

mod addr;
pub(crate) mod split;
mod stream;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::{ToSocketAddrs, lookup_host};
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
