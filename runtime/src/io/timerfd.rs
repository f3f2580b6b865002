//! `TimerFd`: the reactor's precise wake-up on Linux. `epoll_wait` takes
//! its timeout in whole milliseconds (mio rounds a `Duration` up), so a
//! reactor that waited for a timer with that timeout alone woke up to a
//! millisecond late. A timerfd in the epoll set, armed for the exact
//! instant, makes the wait end then (to the kernel's timer slack, ~50 µs
//! for a normal thread); the `epoll_wait` timeout stays as a coarse
//! backstop that is never shorter.
//!
//! The timer is one-shot and absolute (`TFD_TIMER_ABSTIME` on
//! `CLOCK_MONOTONIC`, the clock of `std::time::Instant` on Linux), so
//! arming it again for the same instant changes nothing: [`TimerFd::arm`]
//! skips the system call then, which is every re-park that follows a wake
//! while the same timer is next. Its expiration count is never read: mio
//! registers edge-triggered, so each expiration is one event, and the
//! reactor ignores the event itself (waking up was its whole purpose).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// A one-shot `CLOCK_MONOTONIC` timerfd and the instant it is armed for.
#[derive(Debug)]
pub(crate) struct TimerFd {
    fd: OwnedFd,
    /// An `Instant` and the `CLOCK_MONOTONIC` reading taken right after it:
    /// an instant `t` is `mono_anchor + (t - anchor)` on the kernel's
    /// clock. The second reading is the later one, so the conversion errs
    /// late (by the nanoseconds between the two reads), never early.
    anchor: Instant,
    mono_anchor: Duration,
    /// The instant the timer is armed for, if any (it may have passed:
    /// an expired one-shot timer is disarmed by the kernel).
    armed: Option<Instant>,
    /// `timerfd_settime` calls made (arms and disarms), for tests.
    settime_calls: u64,
}

impl TimerFd {
    /// A disarmed, non-blocking, close-on-exec timerfd.
    pub(crate) fn new() -> io::Result<TimerFd> {
        // SAFETY: plain system call with constant, valid arguments; it
        // returns a new fd or -1.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let anchor = Instant::now();
        let mono_anchor = monotonic_now()?;
        Ok(TimerFd {
            fd,
            anchor,
            mono_anchor,
            armed: None,
            settime_calls: 0,
        })
    }

    /// Arms the timer to expire at `at` (at once if `at` has passed).
    /// No system call if it is already armed for exactly `at`.
    pub(crate) fn arm(&mut self, at: Instant) -> io::Result<()> {
        if self.armed == Some(at) {
            return Ok(());
        }
        let on_kernel_clock = self
            .mono_anchor
            .saturating_add(at.saturating_duration_since(self.anchor));
        // A zero `it_value` would disarm: the earliest instant is 1 ns.
        self.settime(timespec(on_kernel_clock.max(Duration::from_nanos(1))))?;
        self.armed = Some(at);
        Ok(())
    }

    /// Disarms the timer if it is armed for an instant still ahead; an
    /// expired (or never armed) timer costs no system call.
    pub(crate) fn disarm(&mut self) -> io::Result<()> {
        // The clock is read only when something is armed: an idle reactor
        // parks with no timeout on every wait, mostly with nothing armed.
        match self.armed.take() {
            Some(at) if at > Instant::now() => self.settime(timespec(Duration::ZERO)),
            _ => Ok(()),
        }
    }

    /// `timerfd_settime` calls made so far.
    #[cfg(test)]
    pub(crate) fn settime_calls(&self) -> u64 {
        self.settime_calls
    }

    fn settime(&mut self, value: libc::timespec) -> io::Result<()> {
        self.settime_calls += 1;
        let spec = libc::itimerspec {
            it_interval: timespec(Duration::ZERO),
            it_value: value,
        };
        // SAFETY: `self.fd` is a live timerfd; `spec` is a valid itimerspec
        // read by the kernel during the call; a null old value is allowed.
        let rc = unsafe {
            libc::timerfd_settime(
                self.fd.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            self.armed = None;
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl AsRawFd for TimerFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// `CLOCK_MONOTONIC` now, as a duration since its (boot-time) origin.
fn monotonic_now() -> io::Result<Duration> {
    let mut ts = timespec(Duration::ZERO);
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// A duration as a `timespec`, seconds saturating at `time_t::MAX`.
fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX),
        // < 1e9: fits every platform's `c_long`.
        tv_nsec: d.subsec_nanos() as libc::c_long,
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Waits up to `limit` for the fd to become readable.
    fn readable_within(timer: &TimerFd, limit: Duration) -> bool {
        let mut pfd = libc::pollfd {
            fd: timer.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(limit.as_millis()).unwrap();
        // SAFETY: one valid pollfd, count 1.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        n == 1
    }

    #[test]
    fn arming_for_the_same_instant_again_makes_no_system_call() {
        let mut timer = TimerFd::new().unwrap();
        let at = Instant::now() + Duration::from_secs(3600);
        timer.arm(at).unwrap();
        timer.arm(at).unwrap();
        timer.arm(at).unwrap();
        assert_eq!(timer.settime_calls(), 1);
        timer.arm(at + Duration::from_nanos(1)).unwrap();
        assert_eq!(timer.settime_calls(), 2, "a different instant re-arms");
        timer.disarm().unwrap();
        assert_eq!(timer.settime_calls(), 3, "a future expiry is disarmed");
        timer.disarm().unwrap();
        assert_eq!(timer.settime_calls(), 3, "nothing left to disarm");
        timer.arm(at).unwrap();
        assert_eq!(timer.settime_calls(), 4, "disarmed: arming is a call again");
        assert!(!readable_within(&timer, Duration::ZERO));
    }

    #[test]
    fn an_expired_timer_needs_no_disarm() {
        let mut timer = TimerFd::new().unwrap();
        let at = Instant::now() + Duration::from_micros(200);
        timer.arm(at).unwrap();
        assert!(readable_within(&timer, Duration::from_secs(10)));
        timer.disarm().unwrap();
        assert_eq!(timer.settime_calls(), 1);
    }

    #[test]
    fn it_expires_at_its_instant_never_before() {
        let mut timer = TimerFd::new().unwrap();
        for micros in [1, 50, 300, 1000, 2500] {
            let at = Instant::now() + Duration::from_micros(micros);
            timer.arm(at).unwrap();
            assert!(readable_within(&timer, Duration::from_secs(10)));
            assert!(Instant::now() >= at, "expired early ({micros} µs)");
            // Consume the expiration so the next arm is observed afresh.
            let mut count = [0u8; 8];
            // SAFETY: an 8-byte buffer, the size a timerfd read needs.
            let n = unsafe { libc::read(timer.as_raw_fd(), count.as_mut_ptr().cast(), 8) };
            assert_eq!(n, 8);
        }
    }

    #[test]
    fn a_past_instant_expires_at_once() {
        let mut timer = TimerFd::new().unwrap();
        let past = Instant::now();
        std::thread::sleep(Duration::from_millis(1));
        timer.arm(past).unwrap();
        assert!(readable_within(&timer, Duration::from_secs(10)));
    }
}
