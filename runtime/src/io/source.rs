//! `IoSource<E>`: a mio source registered with the current runtime's
//! reactor — what every keen socket is built on. It owns the source, closes
//! it on drop (which takes it out of epoll) or removes it from epoll before
//! handing it back with [`into_inner`](IoSource::into_inner), and provides
//! the read and write loops shared by the stream types.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::os::fd::AsFd;
use std::task::{Context, Poll, ready};

use mio::event::Source;
use socket2::SockRef;

use crate::io::nosignal;
use crate::io::ready::{Interest, Ready};
use crate::io::registration::Registration;
use crate::io::waiters::Direction;

/// A registered source.
pub(crate) struct IoSource<E: Source> {
    /// `None` only while being taken apart.
    io: Option<E>,
    registration: Registration,
}

impl<E: Source> IoSource<E> {
    /// Registers `io` for reading and writing with optimistic readiness:
    /// the first operation tries the system call (it may hold data already).
    pub(crate) fn new(io: E) -> io::Result<IoSource<E>> {
        IoSource::with_ready(
            io,
            Interest::READABLE | Interest::WRITABLE,
            Ready::READABLE | Ready::WRITABLE,
        )
    }

    /// Registers `io` for `interest`, its readiness starting as `initial`.
    pub(crate) fn with_ready(
        mut io: E,
        interest: Interest,
        initial: Ready,
    ) -> io::Result<IoSource<E>> {
        let registration = Registration::new(&mut io, interest, initial)?;
        Ok(IoSource {
            io: Some(io),
            registration,
        })
    }

    /// The registration.
    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Removes the source from epoll and hands it back.
    pub(crate) fn into_inner(mut self) -> E {
        let mut io = self.io.take().expect("present until taken");
        self.registration.deregister(&mut io);
        io
    }

    /// Reads into `buf`, waiting in the read direction's `poll_*` slot. A
    /// short read clears readability (the kernel buffer was drained), so
    /// the next read waits instead of making a system call that would
    /// fail; an event that came meanwhile keeps it (tick rule).
    pub(crate) fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>
    where
        for<'a> &'a E: Read,
    {
        let len = buf.len();
        self.poll_read_with(cx, len, || (&**self).read(buf))
    }

    /// As [`poll_read`](Self::poll_read), into memory that may not be
    /// initialised yet (hyper's and tokio's read buffers): one `recv`, which
    /// only writes, so no byte is zeroed first. The first `n` bytes of
    /// `buf` are initialised when it returns `Ok(n)`.
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>
    where
        E: AsFd,
    {
        let len = buf.len();
        self.poll_read_with(cx, len, || SockRef::from(&**self).recv(buf))
    }

    /// The read loop: `read` (into a buffer of `len` bytes) until it does
    /// not return `WouldBlock`.
    fn poll_read_with(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        mut read: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            let event = ready!(self.registration.poll_ready(cx, Direction::Read))?;
            match read() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.registration.clear(event)
                }
                Ok(n) if n > 0 && n < len => {
                    self.registration.clear_only(event, Ready::READABLE);
                    return Poll::Ready(Ok(n));
                }
                done => return Poll::Ready(done),
            }
        }
    }

    /// Vectored read, as [`poll_read`](Self::poll_read).
    pub(crate) fn poll_read_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>>
    where
        for<'a> &'a E: Read,
    {
        self.registration
            .poll_io(cx, Direction::Read, || (&**self).read_vectored(bufs))
    }

    /// Writes `buf` (never raising SIGPIPE), waiting in the write
    /// direction's `poll_*` slot. A short write clears writability.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>
    where
        E: AsFd,
    {
        loop {
            let event = ready!(self.registration.poll_ready(cx, Direction::Write))?;
            match nosignal::send(&**self, buf) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.registration.clear(event)
                }
                Ok(n) if n > 0 && n < buf.len() => {
                    self.registration.clear_only(event, Ready::WRITABLE);
                    return Poll::Ready(Ok(n));
                }
                done => return Poll::Ready(done),
            }
        }
    }

    /// Vectored write (one `sendmsg`, never raising SIGPIPE).
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>
    where
        E: AsFd,
    {
        self.registration.poll_io(cx, Direction::Write, || {
            nosignal::send_vectored(&**self, bufs)
        })
    }
}

impl<E: Source> Deref for IoSource<E> {
    type Target = E;

    fn deref(&self) -> &E {
        self.io.as_ref().expect("present until taken")
    }
}

impl<E: Source> Drop for IoSource<E> {
    fn drop(&mut self) {
        // Closed without an `EPOLL_CTL_DEL`: closing the last descriptor
        // of the file removes it from epoll, one system call fewer per
        // socket. If the user kept a duplicate (`try_clone_to_owned` on
        // its fd), the file stays in epoll until the duplicate closes and
        // its events carry this registration's token, whose generation no
        // longer names a live slot once the token is released just after:
        // they miss (see `registrations.rs`).
        drop(self.io.take());
    }
}

impl<E: Source + fmt::Debug> fmt::Debug for IoSource<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
