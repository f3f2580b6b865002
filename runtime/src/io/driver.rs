//! `IoDriver`: the reactor, one per runtime, on mio 1.x. It is the
//! scheduler's park [`Driver`] under the timer driver (time → I/O →
//! `epoll_wait`): parking with a timeout is one `Poll::poll` with that
//! timeout, and every event it returns is dispatched to its registration
//! (readiness set, waiters woken — queued, never polled inline).
//!
//! Who turns it: on current-thread, `block_on` when it runs out of tasks;
//! on multi-thread, the one idle worker that wins the shared driver's lock
//! (the others park on their own condition variables). Busy threads turn
//! it with a zero timeout every `event_interval` ticks, so I/O is never
//! starved; such a turn makes no system call while the runtime has no
//! registration at all, so a runtime that never opens a socket pays for
//! the reactor only when it parks (and three fds: the epoll fd, its clone
//! for registering from any thread, and the waker's eventfd).

use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use keen_scheduler::park::{Driver, Unparker};

use crate::io::handle::{IoHandle, WAKE_TOKEN};
use crate::io::ready::Ready;

/// Events taken per `epoll_wait`.
const EVENTS: usize = 1024;

/// The reactor.
pub(crate) struct IoDriver {
    poll: mio::Poll,
    events: mio::Events,
    handle: Arc<IoHandle>,
    /// Scratch space for wakers taken from a registration.
    wakers: Vec<Waker>,
}

impl IoDriver {
    /// A reactor with its epoll fd and waker.
    pub(crate) fn new() -> io::Result<IoDriver> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        Ok(IoDriver {
            poll,
            events: mio::Events::with_capacity(EVENTS),
            handle: Arc::new(IoHandle::new(registry, waker)),
            wakers: Vec::new(),
        })
    }

    /// The reactor's shared side.
    pub(crate) fn handle(&self) -> &Arc<IoHandle> {
        &self.handle
    }

    /// One turn: frees released registrations, waits up to `timeout` for
    /// events and dispatches them. Returns how many registration events
    /// were dispatched (wakes of the reactor itself not counted).
    pub(crate) fn turn(&mut self, timeout: Option<Duration>) -> usize {
        let handle = &*self.handle;
        // Every event of the previous turn was dispatched: no event can
        // name a released registration any more.
        handle.registrations.free_released();
        if timeout == Some(Duration::ZERO)
            && handle.registrations.len() == 0
            && !handle.signals.is_watching()
        {
            return 0; // no socket: a maintenance turn costs no system call
        }
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return 0,
            Err(err) => panic!("keen: the I/O reactor's epoll_wait failed: {err}"),
        }
        let mut dispatched = 0;
        for event in &self.events {
            if event.token() == WAKE_TOKEN {
                continue;
            }
            if event.token() == crate::signal::SIGNAL_TOKEN {
                crate::signal::dispatch(); // wakes (queues) the listeners
                dispatched += 1;
                continue;
            }
            if let Some(io) = handle.registrations.get(event.token().0) {
                io.dispatch(Ready::from_mio(event), &mut self.wakers);
                dispatched += 1;
            }
        }
        dispatched
    }
}

impl Driver for IoDriver {
    fn park(&mut self, timeout: Option<Duration>) {
        self.turn(timeout);
    }

    fn unparker(&self) -> Unparker {
        Unparker::new(self.handle.clone())
    }

    fn poll_now(&mut self) -> bool {
        self.turn(Some(Duration::ZERO)) > 0
    }

    /// Releases every registration: each is marked shut down, so its
    /// waiters wake with an error and later operations fail with one.
    fn shutdown(&mut self) {
        self.handle.shutdown();
    }
}

impl std::fmt::Debug for IoDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoDriver")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::Instant;

    use keen_scheduler::park::ParkThread;

    use super::*;

    /// Prints what parking costs (`cargo test -p keen --release --lib
    /// park_costs -- --ignored --nocapture`); the figures are in
    /// `docs/io.md`. A measurement, not a check.
    #[test]
    #[ignore = "a measurement; run by hand"]
    fn park_costs() {
        const N: u32 = 200_000;
        let per = |start: Instant| start.elapsed() / N;
        let mut io = IoDriver::new().unwrap();
        let start = Instant::now();
        for _ in 0..N {
            io.park(Some(Duration::ZERO));
        }
        println!("zero-timeout turn, no registration: {:?}", per(start));
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&a);
        let (_token, _io) = io
            .handle()
            .register(
                &mut mio::unix::SourceFd(&fd),
                crate::io::Interest::READABLE,
                Ready::EMPTY,
            )
            .unwrap();
        let start = Instant::now();
        for _ in 0..N {
            io.park(Some(Duration::ZERO));
        }
        println!("zero-timeout turn, one registration: {:?}", per(start));
        let unparker = io.unparker();
        let start = Instant::now();
        for _ in 0..N {
            unparker.unpark();
            io.park(None);
        }
        println!("unpark + park (eventfd + epoll_wait): {:?}", per(start));
        let mut thread = ParkThread::new();
        let unparker = thread.unparker();
        let start = Instant::now();
        for _ in 0..N {
            unparker.unpark();
            thread.park(None);
        }
        println!("unpark + park (condvar ParkThread): {:?}", per(start));
    }
}
