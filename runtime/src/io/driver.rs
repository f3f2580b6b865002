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
//! for registering from any thread, and the waker's eventfd; on Linux a
//! fourth, the timerfd).
//!
//! Waiting for a timer (`park_until`) is precise on Linux: a timerfd in
//! the epoll set (`timerfd.rs`, under its own token) is armed for the exact
//! instant, and the `epoll_wait` timeout, whole milliseconds rounded up,
//! is only a backstop a millisecond later. The timerfd is re-armed only when
//! the instant changes, disarmed (if still pending) before a wait with no
//! timeout, and never touched by a zero-timeout turn. Without a timerfd
//! (another OS, or `timerfd_create` failed) the wait is the millisecond
//! `epoll_wait` timeout alone, as before.

use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use keen_scheduler::park::{Driver, Unparker};

use crate::io::handle::{IoHandle, WAKE_TOKEN};
use crate::io::ready::Ready;

/// Events taken per `epoll_wait`.
const EVENTS: usize = 1024;

/// The timerfd's token (the waker has `usize::MAX`, signals `MAX - 1`).
#[cfg(target_os = "linux")]
const TIMER_TOKEN: mio::Token = mio::Token(usize::MAX - 2);

/// How much later than the timerfd the `epoll_wait` backstop ends.
#[cfg(target_os = "linux")]
const BACKSTOP: Duration = Duration::from_millis(1);

/// The reactor.
pub(crate) struct IoDriver {
    poll: mio::Poll,
    events: mio::Events,
    handle: Arc<IoHandle>,
    /// Scratch space for wakers taken from a registration.
    wakers: Vec<Waker>,
    /// The precise wake for `park_until`; `None` if it could not be made.
    #[cfg(target_os = "linux")]
    timer: Option<crate::io::timerfd::TimerFd>,
}

impl IoDriver {
    /// A reactor with its epoll fd and waker.
    pub(crate) fn new() -> io::Result<IoDriver> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        #[cfg(target_os = "linux")]
        let timer = precise_timer(&poll);
        Ok(IoDriver {
            poll,
            events: mio::Events::with_capacity(EVENTS),
            handle: Arc::new(IoHandle::new(registry, waker)),
            wakers: Vec::new(),
            #[cfg(target_os = "linux")]
            timer,
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
            #[cfg(target_os = "linux")]
            if event.token() == TIMER_TOKEN {
                continue; // the timer woke the wait: that was all it had to do
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

    /// A turn that waits until `deadline` at the latest: precisely with the
    /// timerfd, otherwise with `epoll_wait`'s millisecond timeout. A
    /// deadline that has passed is a zero-timeout turn.
    pub(crate) fn turn_until(&mut self, deadline: Instant) -> usize {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return self.turn(Some(Duration::ZERO));
        }
        #[cfg(target_os = "linux")]
        if let Some(timer) = &mut self.timer {
            if timer.arm(deadline).is_ok() {
                return self.turn(Some(left.saturating_add(BACKSTOP)));
            }
            self.timer = None; // it failed once: millisecond waits from now on
        }
        self.turn(Some(left))
    }

    /// The timerfd's `timerfd_settime` calls so far (`None`: no timerfd).
    #[cfg(all(test, target_os = "linux"))]
    fn timer_settime_calls(&self) -> Option<u64> {
        self.timer.as_ref().map(|t| t.settime_calls())
    }
}

/// The reactor's timerfd, registered under [`TIMER_TOKEN`]; `None` (and
/// millisecond waits) if the kernel refuses either step.
#[cfg(target_os = "linux")]
fn precise_timer(poll: &mio::Poll) -> Option<crate::io::timerfd::TimerFd> {
    use std::os::fd::AsRawFd;
    let timer = crate::io::timerfd::TimerFd::new().ok()?;
    let fd = timer.as_raw_fd();
    poll.registry()
        .register(
            &mut mio::unix::SourceFd(&fd),
            TIMER_TOKEN,
            mio::Interest::READABLE,
        )
        .ok()?;
    Some(timer)
}

impl Driver for IoDriver {
    fn park(&mut self, timeout: Option<Duration>) {
        match timeout {
            None => {
                // A timer armed for later would end this wait for nothing.
                #[cfg(target_os = "linux")]
                if let Some(timer) = &mut self.timer {
                    if timer.disarm().is_err() {
                        self.timer = None;
                    }
                }
                self.turn(None);
            }
            Some(t) if !t.is_zero() => match Instant::now().checked_add(t) {
                Some(deadline) => {
                    self.turn_until(deadline);
                }
                None => {
                    self.turn(Some(t));
                }
            },
            Some(_) => {
                self.turn(timeout);
            }
        }
    }

    fn park_until(&mut self, deadline: Instant) {
        self.turn_until(deadline);
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

    #[cfg(target_os = "linux")]
    #[test]
    fn the_timerfd_is_armed_only_when_the_wake_instant_changes() {
        let mut io = IoDriver::new().unwrap();
        let calls = |io: &IoDriver| io.timer_settime_calls().expect("a timerfd on Linux");
        let unparker = io.unparker();
        // Each wait below is ended at once by an unpark made before it; the
        // timerfd is armed (or not) before the wait starts.
        let far = Instant::now() + Duration::from_secs(3600);
        unparker.unpark();
        io.park_until(far);
        assert_eq!(calls(&io), 1, "armed");
        unparker.unpark();
        io.park_until(far);
        assert_eq!(calls(&io), 1, "the same instant again: no system call");
        io.park(Some(Duration::ZERO));
        assert!(!io.poll_now());
        assert_eq!(calls(&io), 1, "zero-timeout turns never touch the timerfd");
        unparker.unpark();
        io.park_until(far + Duration::from_millis(1));
        assert_eq!(calls(&io), 2, "a new instant re-arms");
        unparker.unpark();
        io.park(Some(Duration::from_secs(3600)));
        assert_eq!(calls(&io), 3, "a plain timeout is an instant too");
        unparker.unpark();
        io.park(None);
        assert_eq!(calls(&io), 4, "no timeout: the pending timer is disarmed");
        unparker.unpark();
        io.park(None);
        assert_eq!(calls(&io), 4, "nothing left to disarm");
        io.park_until(Instant::now());
        assert_eq!(calls(&io), 4, "a passed instant is a zero-timeout turn");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_fired_timer_leaves_nothing_behind() {
        // After the timerfd ended a wait, an unarmed wait is not ended by
        // it again (edge-triggered: its one event was taken).
        let mut io = IoDriver::new().unwrap();
        let at = Instant::now() + Duration::from_micros(300);
        io.park_until(at);
        assert!(Instant::now() >= at, "woke before the instant");
        io.park_until(at + Duration::from_millis(2));
        assert!(Instant::now() >= at + Duration::from_millis(2));
        let calls = io.timer_settime_calls().unwrap();
        assert!(!io.poll_now(), "no event left over");
        let unparker = io.unparker();
        let start = Instant::now();
        let waker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            unparker.unpark();
        });
        io.park(None);
        assert!(
            start.elapsed() >= Duration::from_millis(20),
            "only the unpark ends it"
        );
        assert_eq!(io.timer_settime_calls(), Some(calls), "expired: no disarm");
        waker.join().unwrap();
    }

    #[test]
    fn park_until_never_wakes_before_its_instant() {
        let mut io = IoDriver::new().unwrap();
        for micros in [1, 50, 100, 300, 1000, 1500, 3000] {
            let at = Instant::now() + Duration::from_micros(micros);
            io.park_until(at);
            let now = Instant::now();
            assert!(now >= at, "{micros} µs: woke {:?} early", at - now);
            assert!(now - at < Duration::from_secs(5), "{micros} µs: hung");
        }
    }

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
