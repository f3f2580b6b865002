//! How a runtime's reactor watches the signal pipe: the first time a
//! signal is asked for (or a `Signal` polled) on a runtime, the pipe's read
//! end joins that runtime's epoll set under [`SIGNAL_TOKEN`], and the
//! reactor then calls `globals::dispatch` on every turn that reports it.
//! No thread polls for signals.
//!
//! Every such runtime watches the same pipe (one fd may sit in several
//! epoll sets); whichever turns first dispatches to every listener of the
//! process, whatever runtime they belong to. A runtime that shuts down
//! stops counting as a watcher; the pipe itself stays (process-wide).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use mio::unix::SourceFd;
use parking_lot::Mutex;

use crate::io::{Interest, IoHandle};
use crate::signal::globals;

/// The reactor token of the signal pipe; no registration has it (see
/// `io/registrations.rs`).
pub(crate) const SIGNAL_TOKEN: mio::Token = mio::Token(usize::MAX - 1);

/// One reactor's part in watching signals; lives in its `IoHandle`.
#[derive(Debug, Default)]
pub(crate) struct ReactorSignals {
    /// The pipe is in this reactor's epoll set and counted as watched.
    watching: AtomicBool,
    /// Serialises starting and stopping, so the watcher count stays exact.
    changing: Mutex<()>,
}

impl ReactorSignals {
    /// Whether this reactor watches the pipe (its zero-timeout turns then
    /// must ask epoll even with no socket registered).
    pub(crate) fn is_watching(&self) -> bool {
        self.watching.load(Ordering::Acquire)
    }

    /// Makes `io`'s reactor watch the pipe, once.
    pub(crate) fn watch(&self, io: &IoHandle) -> io::Result<()> {
        if self.is_watching() {
            return Ok(());
        }
        let _changing = self.changing.lock();
        if self.is_watching() {
            return Ok(());
        }
        let globals = globals::globals()?;
        let fd = globals.receiver_fd();
        // Fails once the reactor shut down (its registry is closed first).
        io.register_token(&mut SourceFd(&fd), SIGNAL_TOKEN, Interest::READABLE)?;
        globals.reactor_added();
        self.watching.store(true, Ordering::Release);
        Ok(())
    }

    /// The reactor shut down (after its registry was closed).
    pub(crate) fn shutdown(&self) {
        let _changing = self.changing.lock();
        if self.watching.swap(false, Ordering::AcqRel) {
            if let Ok(globals) = globals::globals() {
                globals.reactor_removed();
            }
        }
    }
}
