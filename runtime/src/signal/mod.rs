//! `keen::signal`: asynchronous signal handling with tokio's names and
//! meanings — [`ctrl_c`] and, on Unix, [`unix::signal`] with
//! [`unix::SignalKind`] and the [`unix::Signal`] stream.
//!
//! There is no signal thread. keen's handler (installed once per signal
//! through `signal-hook-registry`, chained after any other handler) sets a
//! per-signal flag and writes a byte to a process-wide self-pipe; every
//! runtime that listens for signals has the pipe's read end in its reactor,
//! whose turn drains it and wakes the listeners (`globals.rs` owns the
//! pipe and the per-signal slots, `reactor.rs` the reactor's side,
//! `unix.rs` the public types). `docs/io.md`, section "Signals", has the
//! whole design and the differences from tokio.
//!
//! ```
//! keen::block_on(async {
//!     // Eager spawn polls `ctrl_c` here: from now on SIGINT is keen's.
//!     let interrupted = keen::spawn(keen::signal::ctrl_c());
//!     assert!(!interrupted.is_finished());
//!     // SAFETY: raise(3) has no preconditions.
//!     unsafe { libc::raise(libc::SIGINT) };
//!     interrupted.await.unwrap()?;
//!     Ok::<_, std::io::Error>(())
//! })
//! .unwrap();
//! ```

mod globals;
mod reactor;
#[cfg(unix)]
pub mod unix;

use std::io;

pub(crate) use globals::dispatch;
pub(crate) use reactor::{ReactorSignals, SIGNAL_TOKEN};

/// Completes on the next `SIGINT` (Ctrl-C) after this future is first
/// polled: listening starts at that poll, as in tokio, so poll it (or
/// spawn it, which keen does eagerly) before the signal can come.
///
/// Once called, keen's handler replaces the default action (terminating
/// the process) for the rest of the process's life.
///
/// # Errors
/// Outside a keen runtime, if the handler cannot be installed, or if no
/// keen runtime is left to watch for signals while it waits.
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupt = unix::signal(unix::SignalKind::interrupt())?;
    match interrupt.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other(
            "keen: no runtime is left to watch for signals (the one ctrl_c registered with shut down)",
        )),
    }
}
