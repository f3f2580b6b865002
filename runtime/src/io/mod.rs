//! `keen::io`: readiness for any file descriptor ([`AsyncFd`]), the
//! [`Interest`]/[`Ready`] vocabulary, and the futures-io traits with
//! futures-util's extension traits and helpers, re-exported as they are
//! (`read`, `write_all`, `copy`, `BufReader`, … are futures-util's own).
//! Behind the `tokio-io` feature keen's streams also implement tokio's
//! `AsyncRead`/`AsyncWrite` (traits only; no tokio runtime is involved).
//!
//! Inside, this module is the reactor: `driver.rs` (the mio `Poll`, the
//! park driver), `handle.rs` (registering from any thread, the waker),
//! `registrations.rs` (who frees a registration, and when), `state.rs` (the
//! readiness word and its bit table), `scheduled_io.rs` and `waiters.rs`
//! (who waits and how they are woken), `registration.rs` and `source.rs`
//! (what a socket holds), `timerfd.rs` (the precise timer wake on Linux).
//! `docs/io.md` tells the whole story.
//!
//! ```
//! use keen::io::{AsyncReadExt, AsyncWriteExt};
//! use keen::net::{TcpListener, TcpStream};
//!
//! keen::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let client = keen::spawn(async move {
//!         let mut stream = TcpStream::connect(addr).await?;
//!         stream.write_all(b"ping").await?;
//!         let mut reply = [0; 4];
//!         stream.read_exact(&mut reply).await?;
//!         Ok::<_, std::io::Error>(reply)
//!     });
//!     let (mut served, _) = listener.accept().await?;
//!     let mut buf = [0; 4];
//!     served.read_exact(&mut buf).await?;
//!     served.write_all(b"pong").await?;
//!     assert_eq!(&client.await.unwrap()?, b"pong");
//!     Ok::<_, std::io::Error>(())
//! })
//! .unwrap();
//! ```

mod async_fd;
mod driver;
pub(crate) mod error;
mod handle;
mod nosignal;
mod ready;
mod registration;
mod registrations;
mod scheduled_io;
mod source;
mod state;
#[cfg(target_os = "linux")]
mod timerfd;
#[cfg(feature = "tokio-io")]
mod tokio_compat;
mod waiters;

pub use async_fd::{AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard, TryIoError};
pub use ready::{Interest, Ready};

pub(crate) use driver::IoDriver;
pub(crate) use handle::IoHandle;
pub(crate) use source::IoSource;
pub(crate) use waiters::Direction;

pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use futures_util::io::{
    AllowStdIo, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, BufWriter,
    Cursor, Empty, LineWriter, Lines, Repeat, Sink, Take, copy, copy_buf, empty, repeat, sink,
};
pub use std::io::{Error, ErrorKind, IoSlice, IoSliceMut, Result, SeekFrom};

#[cfg(all(test, loom))]
pub(crate) use {
    registrations::Registrations,
    scheduled_io::ScheduledIo,
    state::{ReadyEvent, Snapshot, State},
};

/// `send` without SIGPIPE, for the stream macros in `net`.
pub(crate) use nosignal::send as nosignal_send;
/// `sendmsg` without SIGPIPE, for the stream macros in `net`.
pub(crate) use nosignal::send_vectored as nosignal_send_vectored;
