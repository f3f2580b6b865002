//! [`AsyncFd`]: readiness for any file descriptor the caller owns (a pipe,
//! an eventfd, a tty, a socket keen has no type for), with the guards that
//! clear readiness after `WouldBlock` — tokio's names and meanings.
//!
//! The fd must be in non-blocking mode. Unlike keen's sockets, an `AsyncFd`
//! starts with no readiness: the first wait asks the reactor (epoll reports
//! an fd that is ready when it is added, so this costs one reactor turn and
//! no spurious readiness).

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{Context, Poll, ready};

use mio::unix::SourceFd;

use crate::io::ready::{Interest, Ready};
use crate::io::registration::Registration;
use crate::io::state::ReadyEvent;
use crate::io::waiters::Direction;

/// An fd registered with the current runtime's reactor.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use keen::io::AsyncFd;
///
/// keen::block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let fd = AsyncFd::new(a)?;
///     b.write_all(b"hi")?;
///     let mut buf = [0; 2];
///     let n = loop {
///         let mut guard = fd.readable().await?;
///         match guard.try_io(|fd| fd.get_ref().read(&mut buf)) {
///             Ok(result) => break result?,
///             Err(_would_block) => continue,
///         }
///     };
///     assert_eq!(&buf[..n], b"hi");
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct AsyncFd<T: AsRawFd> {
    /// `None` only while being taken apart.
    inner: Option<T>,
    fd: RawFd,
    registration: Registration,
}

/// The error of a guard's `try_io` whose operation would block (readiness
/// was cleared; wait again).
#[derive(Debug)]
pub struct TryIoError(());

/// Readiness of an [`AsyncFd`] borrowed shared; see
/// [`clear_ready`](Self::clear_ready).
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    async_fd: &'a AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// Readiness of an [`AsyncFd`] borrowed mutably.
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    async_fd: &'a mut AsyncFd<T>,
    event: Option<ReadyEvent>,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner` for reading and writing with the current runtime.
    /// An error outside any runtime (naming the fix) or if it shut down.
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `inner` for `interest` only.
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        let fd = inner.as_raw_fd();
        let registration = Registration::new(&mut SourceFd(&fd), interest, Ready::EMPTY)?;
        Ok(AsyncFd {
            inner: Some(inner),
            fd,
            registration,
        })
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        self.inner.as_ref().expect("present until taken")
    }

    /// The wrapped value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("present until taken")
    }

    /// Deregisters the fd and hands the value back.
    pub fn into_inner(mut self) -> T {
        self.registration.deregister(&mut SourceFd(&self.fd));
        self.inner.take().expect("present until taken")
    }

    fn poll_ready_in(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<ReadyEvent>> {
        self.registration.poll_ready(cx, dir)
    }

    /// Polls for read readiness (one waiter: the last task to poll).
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.poll_ready_in(cx, Direction::Read))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Polls for write readiness (one waiter: the last task to poll).
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.poll_ready_in(cx, Direction::Write))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Polls for read readiness, with a mutable guard.
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.poll_ready_in(cx, Direction::Read))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Polls for write readiness, with a mutable guard.
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.poll_ready_in(cx, Direction::Write))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Waits for any readiness in `interest`. Every waiting task is woken;
    /// cancel-safe.
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let event = self.registration.readiness(interest).await?;
        Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        })
    }

    /// Waits for any readiness in `interest`, with a mutable guard.
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = self.registration.readiness(interest).await?;
        Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        })
    }

    /// Waits until the fd is readable.
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// Waits until the fd is readable, with a mutable guard.
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits until the fd is writable.
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// Waits until the fd is writable, with a mutable guard.
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Waits for `interest` and runs `f` until it does not return
    /// `WouldBlock` (clearing readiness each time it does).
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.registration
            .async_io(interest, || f(self.get_ref()))
            .await
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl<T: AsRawFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            // Out of epoll before the value (and maybe its fd) goes.
            self.registration.deregister(&mut SourceFd(&self.fd));
        }
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", &self.inner)
            .finish()
    }
}

fn clear(registration: &Registration, event: &mut Option<ReadyEvent>, only: Ready) {
    if let Some(seen) = event.take() {
        registration.clear_only(seen, only);
    }
}

/// The readiness methods both guards share (written once: the guards
/// differ only in how they borrow the `AsyncFd`).
macro_rules! readiness_methods {
    ($guard:ident) => {
        impl<T: AsRawFd> $guard<'_, T> {
            /// The fd would block after all: forget the readiness this guard
            /// saw (unless a newer event arrived meanwhile), so the next wait
            /// waits.
            pub fn clear_ready(&mut self) {
                clear(&self.async_fd.registration, &mut self.event, Ready::ALL);
            }

            /// Clears only `ready` of what this guard saw.
            pub fn clear_ready_matching(&mut self, ready: Ready) {
                clear(&self.async_fd.registration, &mut self.event, ready);
            }

            /// Keeps the readiness (the default when the guard drops).
            pub fn retain_ready(&mut self) {
                self.event = None;
            }

            /// What the guard saw.
            pub fn ready(&self) -> Ready {
                self.event.map_or(Ready::EMPTY, |e| e.ready)
            }
        }
    };
}

readiness_methods!(AsyncFdReadyGuard);
readiness_methods!(AsyncFdReadyMutGuard);

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    /// Runs `f`; on `WouldBlock` clears the readiness and returns
    /// `Err(TryIoError)`, otherwise `Ok(f's result)`.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            done => Ok(done),
        }
    }

    /// The `AsyncFd`.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.async_fd
    }

    /// The wrapped value.
    pub fn get_inner(&self) -> &'a T {
        self.async_fd.get_ref()
    }
}

impl<T: AsRawFd> AsyncFdReadyMutGuard<'_, T> {
    /// Runs `f`; on `WouldBlock` clears the readiness and returns
    /// `Err(TryIoError)`.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            done => Ok(done),
        }
    }

    /// The `AsyncFd`.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.async_fd
    }

    /// The `AsyncFd`, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.async_fd
    }

    /// The wrapped value.
    pub fn get_inner(&self) -> &T {
        self.async_fd.get_ref()
    }

    /// The wrapped value, mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.async_fd.get_mut()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("ready", &self.ready())
            .finish()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard")
            .field("ready", &self.ready())
            .finish()
    }
}

impl fmt::Display for TryIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation would block; readiness was cleared")
    }
}

impl std::error::Error for TryIoError {}
