//! `Registration`: a socket's membership in its runtime's reactor — the
//! reactor handle, the shared state, the token — and the one loop every
//! operation runs: wait for readiness, try the system call, and on
//! `WouldBlock` clear exactly the readiness that was seen (at its tick).
//! Dropping it releases the token to the reactor (see `registrations.rs`);
//! the owner removes the fd from epoll first.

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use mio::event::Source;

use crate::io::handle::{self, IoHandle};
use crate::io::ready::{Interest, Ready};
use crate::io::scheduled_io::{Readiness, ScheduledIo};
use crate::io::state::ReadyEvent;
use crate::io::waiters::Direction;

/// One registered source.
#[derive(Debug)]
pub(crate) struct Registration {
    handle: Arc<IoHandle>,
    io: Arc<ScheduledIo>,
    token: usize,
}

impl Registration {
    /// Registers `source` with the current runtime's reactor; an error
    /// naming the fix outside any runtime, or if it shut down.
    pub(crate) fn new(
        source: &mut impl Source,
        interest: Interest,
        initial: Ready,
    ) -> io::Result<Registration> {
        let handle = handle::current()?;
        let (token, io) = handle.register(source, interest, initial)?;
        Ok(Registration { handle, io, token })
    }

    /// Removes `source` from epoll (before it is closed or handed back).
    pub(crate) fn deregister(&self, source: &mut impl Source) {
        self.handle.deregister(source);
    }

    /// Readiness in `dir`, or the waker stored in that direction's single
    /// `poll_*` slot.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.io.poll_ready(cx, dir)
    }

    /// A future for readiness in `interest`; every waiter is woken.
    pub(crate) fn readiness(&self, interest: Interest) -> Readiness<'_> {
        self.io.readiness(interest)
    }

    /// Readiness in `interest` right now.
    pub(crate) fn ready_now(&self, interest: Interest) -> io::Result<ReadyEvent> {
        self.io.ready_now(interest)
    }

    /// The task saw `event` and then got `WouldBlock`.
    pub(crate) fn clear(&self, event: ReadyEvent) {
        self.io.clear(event);
    }

    /// Clears only `bits` of `event` (after a short read or write, which on
    /// a stream means the kernel buffer was drained or filled).
    pub(crate) fn clear_only(&self, event: ReadyEvent, bits: Ready) {
        self.io.clear(ReadyEvent {
            tick: event.tick,
            ready: event.ready & bits,
        });
    }

    /// Waits (in the `poll_*` slot of `dir`) and runs `op` until it does
    /// not return `WouldBlock`. Pending only before `op` succeeded, so a
    /// dropped caller loses nothing.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = ready!(self.poll_ready(cx, dir))?;
            match op() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => self.clear(event),
                done => return Poll::Ready(done),
            }
        }
    }

    /// Runs `op` once if readiness in `interest` is set; `WouldBlock`
    /// (without a system call) if it is not.
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let event = self.ready_now(interest)?;
        if event.ready.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match op() {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.clear(event);
                Err(err)
            }
            done => done,
        }
    }

    /// Waits (as a readiness future: every waiter is woken) and runs `op`
    /// until it does not return `WouldBlock`. Cancel-safe when `op` is.
    pub(crate) async fn async_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let event = self.readiness(interest).await?;
            match op() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => self.clear(event),
                done => return done,
            }
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.handle.release(self.token);
    }
}
