//! Unix signals as streams, tokio's `signal::unix`: [`signal`] starts
//! listening for one [`SignalKind`] and returns a [`Signal`], whose
//! [`recv`](Signal::recv) completes once per delivery (deliveries that
//! arrive between two `recv`s coalesce into one).
//!
//! ```
//! use keen::signal::unix::{SignalKind, signal};
//!
//! keen::block_on(async {
//!     // Listening starts here: a delivery from now on is seen.
//!     let mut usr1 = signal(SignalKind::user_defined1())?;
//!     // SAFETY: raise(3) has no preconditions; keen's handler is in place.
//!     unsafe { libc::raise(libc::SIGUSR1) };
//!     assert_eq!(usr1.recv().await, Some(()));
//!     Ok::<_, std::io::Error>(())
//! })
//! .unwrap();
//! ```

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use libc::c_int;

use crate::io::IoHandle;
use crate::signal::globals::{self, Globals};

/// Which signal to listen for; tokio's `SignalKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(c_int);

impl SignalKind {
    /// Any signal by its number (`libc::SIGURG`, a real-time signal…).
    /// Forbidden or invalid numbers are refused by [`signal`], not here.
    pub const fn from_raw(signum: c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    pub const fn as_raw_value(&self) -> c_int {
        self.0
    }

    /// `SIGALRM`: a timer set with `alarm(2)` expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGHUP`: the terminal hung up (daemons: reload the configuration).
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGINT`: the user interrupted (Ctrl-C).
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGPIPE`: a write to a pipe with no reader.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGQUIT`: the user asked to quit with a core dump (Ctrl-\\).
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGTERM`: a polite request to terminate.
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGUSR1`: user-defined.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`: user-defined.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGWINCH`: the terminal's window size changed.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<c_int> for SignalKind {
    fn from(signum: c_int) -> SignalKind {
        SignalKind::from_raw(signum)
    }
}

impl From<SignalKind> for c_int {
    fn from(kind: SignalKind) -> c_int {
        kind.as_raw_value()
    }
}

/// A listener for one signal; see [`signal`]. Every `Signal` sees every
/// delivery dispatched after it was created, once (several between two
/// `recv`s coalesce into one).
pub struct Signal {
    globals: &'static Globals,
    index: usize,
    /// The last version this listener reported (or found at creation).
    seen: u64,
    /// Its waker's key in the slot, once it waited.
    key: Option<usize>,
}

/// Starts listening for `kind` on the current runtime and returns the
/// listener. keen's handler is installed the first time a kind is asked
/// for, and stays for the life of the process (as tokio's: the default
/// action, such as terminating on `SIGINT`, no longer happens).
///
/// # Errors
/// A forbidden signal (`SIGKILL`, `SIGSTOP`, `SIGSEGV`, `SIGBUS`, `SIGILL`,
/// `SIGFPE`) or an invalid number (kind `Other`, as tokio); outside a keen
/// runtime, or on one that shut down (tokio panics outside a runtime; keen
/// returns the error its sockets return); or the OS refused the handler or
/// the pipe.
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let index = globals::check(kind.as_raw_value())?;
    let io = current_io().ok_or_else(crate::io::error::no_runtime)?;
    let globals = globals::globals()?;
    globals.install(index)?;
    io.signals.watch(&io)?;
    Ok(Signal {
        globals,
        index,
        seen: globals.version(index),
        key: None,
    })
}

fn current_io() -> Option<std::sync::Arc<IoHandle>> {
    crate::context::with_handle(|handle| handle.map(|handle| handle.io().clone()))
}

impl Signal {
    /// Waits for the next delivery. `None` once no keen runtime watches
    /// signals any more (the runtime that created this listener shut down,
    /// and it is polled outside any other): then none can ever arrive.
    ///
    /// Cancel-safe: a delivery seen by a dropped `recv` is not consumed,
    /// the next `recv` reports it.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery; `Pending` stores `cx`'s waker (one
    /// per listener: the last one polled).
    ///
    /// Polled inside a keen runtime, that runtime starts watching signals
    /// too, so a listener outlives the runtime that created it.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if self.take_new(self.globals.version(self.index)) {
            return Poll::Ready(Some(()));
        }
        if let Some(io) = current_io() {
            // A shut-down runtime refuses: the watched check below decides.
            let _ = io.signals.watch(&io);
        }
        let slot = self.globals.slot(self.index);
        let version = slot.wait(&mut self.key, cx.waker());
        if self.take_new(version) {
            return Poll::Ready(Some(()));
        }
        if !self.globals.watched() {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    fn take_new(&mut self, version: u64) -> bool {
        if version == self.seen {
            return false;
        }
        self.seen = version;
        true
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.globals.slot(self.index).remove(key);
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("signum", &self.index)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}
