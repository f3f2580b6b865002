//! `IoHandle`: the thread-safe side of a runtime's reactor, held by the
//! runtime handle and by every socket. It registers and deregisters
//! sources (a clone of the reactor's `mio::Registry`), owns the
//! registration set, and wakes the reactor's thread out of `epoll_wait`
//! through a `mio::Waker` (an eventfd on Linux).

use std::fmt;
use std::io;
use std::sync::Arc;

use keen_scheduler::park::Unpark;
use mio::event::Source;
use parking_lot::RwLock;

use crate::io::error;
use crate::io::ready::{Interest, Ready};
use crate::io::registrations::{Refused, Registrations};
use crate::io::scheduled_io::ScheduledIo;

/// The token of the reactor's own waker; no registration has it.
pub(crate) const WAKE_TOKEN: mio::Token = mio::Token(usize::MAX);

/// The shared side of one reactor.
pub(crate) struct IoHandle {
    /// `None` once the reactor shut down (the epoll fd clone is closed
    /// then, even while sockets of the dead runtime linger).
    registry: RwLock<Option<mio::Registry>>,
    waker: mio::Waker,
    pub(crate) registrations: Registrations,
    /// Whether this reactor watches the signal pipe (`keen::signal`).
    pub(crate) signals: crate::signal::ReactorSignals,
}

impl IoHandle {
    pub(crate) fn new(registry: mio::Registry, waker: mio::Waker) -> IoHandle {
        IoHandle {
            registry: RwLock::new(Some(registry)),
            waker,
            registrations: Registrations::new(),
            signals: crate::signal::ReactorSignals::default(),
        }
    }

    /// Registers `source` for `interest`; its readiness starts as
    /// `initial` (see `state.rs` on optimistic readiness).
    pub(crate) fn register(
        &self,
        source: &mut impl Source,
        interest: Interest,
        initial: Ready,
    ) -> io::Result<(usize, Arc<ScheduledIo>)> {
        let (token, io) = self
            .registrations
            .insert(initial)
            .map_err(|refused| match refused {
                Refused::Shutdown => error::shut_down(),
                Refused::Full => {
                    io::Error::other("keen: the I/O reactor's registration set is full")
                }
            })?;
        let registered = match &*self.registry.read() {
            Some(registry) => registry.register(source, mio::Token(token), interest.to_mio()),
            None => Err(error::shut_down()),
        };
        if let Err(err) = registered {
            self.registrations.remove_unregistered(token);
            return Err(err);
        }
        Ok((token, io))
    }

    /// Registers `source` under a fixed `token` outside the registration
    /// set (the signal pipe: its events are the reactor's own business).
    pub(crate) fn register_token(
        &self,
        source: &mut impl Source,
        token: mio::Token,
        interest: Interest,
    ) -> io::Result<()> {
        match &*self.registry.read() {
            Some(registry) => registry.register(source, token, interest.to_mio()),
            None => Err(error::shut_down()),
        }
    }

    /// Removes `source` from epoll. After shutdown there is nothing to
    /// remove it from (closing the fd leaves the closed epoll anyway).
    pub(crate) fn deregister(&self, source: &mut impl Source) {
        if let Some(registry) = &*self.registry.read() {
            // An error here means the fd was already gone from epoll.
            let _ = registry.deregister(source);
        }
    }

    /// Releases `token` to the reactor, which frees it between two batches
    /// of events. Call after the source left epoll (or never entered it).
    pub(crate) fn release(&self, token: usize) {
        if self.registrations.release(token) {
            self.wake();
        }
    }

    /// Wakes the thread blocked in this reactor's `epoll_wait` (or makes
    /// its next one return at once).
    pub(crate) fn wake(&self) {
        // Failure means the eventfd is unusable; the reactor then wakes by
        // its own timeout or next event, which is all that can be done.
        let _ = self.waker.wake();
    }

    /// Shutdown: every registration is marked shut down and its waiters
    /// woken with an error; the registry clone is closed.
    pub(crate) fn shutdown(&self) {
        for io in self.registrations.shutdown() {
            io.shut_down();
        }
        drop(self.registry.write().take());
        // After the registry: a concurrent `watch` then fails instead of
        // counting this reactor as a watcher again.
        self.signals.shutdown();
    }
}

impl Unpark for IoHandle {
    fn unpark(&self) {
        self.wake();
    }
}

impl fmt::Debug for IoHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoHandle")
            .field("registrations", &self.registrations.len())
            .field("shutdown", &self.registrations.is_shutdown())
            .finish()
    }
}

/// The I/O handle of the runtime this thread is in, or an error naming
/// the fix.
pub(crate) fn current() -> io::Result<Arc<IoHandle>> {
    crate::context::with_handle(|h| h.map(|h| h.io().clone())).ok_or_else(error::no_runtime)
}
