//! Writes that never raise SIGPIPE. Decision: keen does not touch the
//! process's signal dispositions (a library should not); instead every
//! stream write is a `send`/`sendmsg` with `MSG_NOSIGNAL` on Linux and
//! Android, so a write to a closed peer returns `BrokenPipe`. On Apple
//! platforms std, mio and socket2 set `SO_NOSIGPIPE` on every socket they
//! create, and the flag is 0. (A plain `write(2)`, which std's
//! `UnixStream` and every `writev` use, would raise the signal.)

use std::io::{self, IoSlice};
use std::os::fd::AsFd;

use socket2::SockRef;

#[cfg(any(target_os = "linux", target_os = "android"))]
const FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const FLAGS: libc::c_int = 0;

/// `send(fd, buf, MSG_NOSIGNAL)`.
pub(crate) fn send(fd: &impl AsFd, buf: &[u8]) -> io::Result<usize> {
    SockRef::from(fd).send_with_flags(buf, FLAGS)
}

/// `sendmsg(fd, bufs, MSG_NOSIGNAL)`.
pub(crate) fn send_vectored(fd: &impl AsFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    SockRef::from(fd).send_vectored_with_flags(bufs, FLAGS)
}
