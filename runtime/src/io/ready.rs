//! [`Ready`] and [`Interest`]: what a socket is ready for, and what a task
//! waits for. Their bits are the low bits of the readiness word in
//! `state.rs`, so moving between the two is a mask, never a translation.

use std::fmt;
use std::ops;

/// Readable: a read (or accept, recv) may succeed.
pub(crate) const READABLE: usize = 1 << 0;
/// Writable: a write (or send, or a finished connect) may succeed.
pub(crate) const WRITABLE: usize = 1 << 1;
/// The peer closed its write side (or both): reads see end of file.
pub(crate) const READ_CLOSED: usize = 1 << 2;
/// This side can no longer write (the peer closed or reset).
pub(crate) const WRITE_CLOSED: usize = 1 << 3;
/// The socket has a pending error (`take_error` returns it).
pub(crate) const ERROR: usize = 1 << 4;
/// Every readiness bit.
pub(crate) const ALL: usize = READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | ERROR;

/// What a socket was ready for when a readiness future completed.
///
/// ```
/// use keen::io::Ready;
/// let ready = Ready::READABLE | Ready::READ_CLOSED;
/// assert!(ready.is_readable() && ready.is_read_closed() && !ready.is_writable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ready(usize);

impl Ready {
    /// Nothing.
    pub const EMPTY: Ready = Ready(0);
    /// Readable.
    pub const READABLE: Ready = Ready(READABLE);
    /// Writable.
    pub const WRITABLE: Ready = Ready(WRITABLE);
    /// The read side is closed (end of file).
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);
    /// The write side is closed.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);
    /// An error is pending on the socket.
    pub const ERROR: Ready = Ready(ERROR);
    /// Every kind of readiness.
    pub const ALL: Ready = Ready(ALL);

    pub(crate) const fn from_bits(bits: usize) -> Ready {
        Ready(bits & ALL)
    }

    pub(crate) const fn bits(self) -> usize {
        self.0
    }

    /// Whether nothing is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether a read may succeed.
    pub fn is_readable(self) -> bool {
        self.0 & (READABLE | READ_CLOSED) != 0
    }

    /// Whether a write may succeed.
    pub fn is_writable(self) -> bool {
        self.0 & (WRITABLE | WRITE_CLOSED) != 0
    }

    /// Whether the read side is closed.
    pub fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED != 0
    }

    /// Whether the write side is closed.
    pub fn is_write_closed(self) -> bool {
        self.0 & WRITE_CLOSED != 0
    }

    /// Whether an error is pending.
    pub fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }

    /// Readiness as mio reports it for one event.
    pub(crate) fn from_mio(event: &mio::event::Event) -> Ready {
        let mut bits = 0;
        if event.is_readable() {
            bits |= READABLE;
        }
        if event.is_writable() {
            bits |= WRITABLE;
        }
        if event.is_read_closed() {
            bits |= READ_CLOSED;
        }
        if event.is_write_closed() {
            bits |= WRITE_CLOSED;
        }
        if event.is_error() {
            bits |= ERROR;
        }
        Ready(bits)
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;
    fn bitand(self, rhs: Ready) -> Ready {
        Ready(self.0 & rhs.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;
    fn sub(self, rhs: Ready) -> Ready {
        Ready(self.0 & !rhs.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("readable", &(self.0 & READABLE != 0))
            .field("writable", &(self.0 & WRITABLE != 0))
            .field("read_closed", &self.is_read_closed())
            .field("write_closed", &self.is_write_closed())
            .field("error", &self.is_error())
            .finish()
    }
}

/// What a task waits for: readable, writable, or both.
///
/// ```
/// use keen::io::Interest;
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

const INTEREST_READ: u8 = 1;
const INTEREST_WRITE: u8 = 2;

impl Interest {
    /// Wait for readability (or read-closed, or an error).
    pub const READABLE: Interest = Interest(INTEREST_READ);
    /// Wait for writability (or write-closed, or an error).
    pub const WRITABLE: Interest = Interest(INTEREST_WRITE);

    /// Whether this includes readability.
    pub const fn is_readable(self) -> bool {
        self.0 & INTEREST_READ != 0
    }

    /// Whether this includes writability.
    pub const fn is_writable(self) -> bool {
        self.0 & INTEREST_WRITE != 0
    }

    /// Both interests.
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// The readiness bits that complete a wait for this interest. An error
    /// completes both directions: the operation then returns it.
    pub(crate) const fn mask(self) -> Ready {
        let mut bits = ERROR;
        if self.is_readable() {
            bits |= READABLE | READ_CLOSED;
        }
        if self.is_writable() {
            bits |= WRITABLE | WRITE_CLOSED;
        }
        Ready(bits)
    }

    pub(crate) fn to_mio(self) -> mio::Interest {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => mio::Interest::READABLE | mio::Interest::WRITABLE,
            (false, true) => mio::Interest::WRITABLE,
            _ => mio::Interest::READABLE,
        }
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        self.add(rhs)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("(none)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_include_closed_and_error() {
        let read = Interest::READABLE.mask();
        assert_eq!(read, Ready::READABLE | Ready::READ_CLOSED | Ready::ERROR);
        let write = Interest::WRITABLE.mask();
        assert_eq!(write, Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::ERROR);
        assert_eq!((Interest::READABLE | Interest::WRITABLE).mask(), Ready::ALL);
    }
}
