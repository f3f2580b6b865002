//! [`Sleep`], [`sleep`] and [`sleep_until`]: a future that completes at a
//! deadline. It registers in the timer wheel only when first pending, and
//! removes its entry when dropped early.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use keen_timer_wheel::TimerKey;

use super::Instant;
use super::current;
use super::driver::{SHUT_DOWN, TimeShared};

/// Waits until `duration` has passed (by the runtime's clock, so a paused
/// clock makes this instant under auto-advance). Never early: the deadline
/// rounds up to the timer wheel's 10 µs tick, and on Linux the runtime
/// wakes for it at that instant (a timerfd), so a sleep ends within tens of
/// microseconds of its deadline on an idle runtime (elsewhere the wait is
/// whole milliseconds, rounded up). `Duration::MAX` sleeps about forever.
///
/// ```
/// use std::time::Duration;
/// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let start = keen::time::Instant::now();
///     keen::time::sleep(Duration::from_millis(2)).await;
///     assert!(start.elapsed() >= Duration::from_millis(2));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now().saturating_add(duration))
}

/// Waits until `deadline` (a past deadline completes at the first poll).
///
/// ```
/// use std::time::Duration;
/// use keen::time::{Instant, sleep_until};
/// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let at = Instant::now() + Duration::from_secs(10);
///     sleep_until(at).await;
///     assert_eq!(Instant::now(), at);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        entry: None,
    }
}

/// Future of [`sleep`] and [`sleep_until`]. `Unpin`: it can be kept in a
/// struct or a `select` loop without pinning.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    entry: Option<Entry>,
}

#[derive(Debug)]
struct Entry {
    time: Arc<TimeShared>,
    key: TimerKey,
    tick: u64,
}

impl Entry {
    fn fired(&self) -> bool {
        self.time.elapsed() >= self.tick
    }
}

impl Sleep {
    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has been reached (by the timer driver).
    pub fn is_elapsed(&self) -> bool {
        match &self.entry {
            Some(entry) => entry.fired(),
            None => self.deadline <= Instant::now(),
        }
    }

    /// Moves the deadline; the timer is moved in place if registered.
    ///
    /// ```
    /// use std::time::Duration;
    /// use keen::time::{Instant, sleep};
    /// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut s = sleep(Duration::from_secs(60));
    ///     s.reset(start + Duration::from_secs(1));
    ///     s.await;
    ///     assert_eq!(start.elapsed(), Duration::from_secs(1));
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        if let Some(entry) = &mut self.entry {
            let tick = entry.time.clock().deadline_tick(deadline.into_std());
            if !entry.fired() && entry.time.reset(entry.key, tick) {
                entry.tick = tick;
            } else {
                self.deregister();
            }
        }
    }

    /// Whether this sleep's timer belongs to a runtime that has shut down.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.entry.as_ref().is_some_and(|e| e.time.is_shutdown())
    }

    /// Removes the entry if the wheel still holds it. `fired()` is not
    /// enough to skip this: `elapsed` is published per batch, before every
    /// timer of that tick is taken out, and a reset into the past leaves the
    /// entry due but still in the wheel. A stale key is a no-op.
    fn deregister(&mut self) {
        if let Some(entry) = self.entry.take() {
            drop(entry.time.remove(entry.key));
        }
    }

    fn register(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let time = current::expect("keen::time::Sleep polled");
        let now = time.clock().now();
        self.register_with(time, now, cx)
    }

    /// Registers with `time`, whose clock read `now` (from the caller, who
    /// read it already), unless the deadline has passed.
    pub(crate) fn register_with(
        &mut self,
        time: Arc<TimeShared>,
        now: std::time::Instant,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        if self.deadline.into_std() <= now {
            return Poll::Ready(());
        }
        let tick = time.clock().deadline_tick(self.deadline.into_std());
        if tick <= time.elapsed() {
            return Poll::Ready(());
        }
        let key = time.insert(tick, cx.waker().clone(), Some(now));
        self.entry = Some(Entry { time, key, tick });
        Poll::Pending
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_deadline(cx)
    }
}

impl Sleep {
    /// [`Future::poll`] without the pin (`Sleep` is `Unpin`).
    pub(crate) fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let this = self;
        match &this.entry {
            None => this.register(cx),
            Some(entry) if entry.fired() => Poll::Ready(()),
            Some(entry) => {
                assert!(!entry.time.is_shutdown(), "{SHUT_DOWN}");
                if entry.time.update_waker(entry.key, cx.waker()) {
                    Poll::Pending
                } else {
                    // Taken out of the wheel to fire: done (the driver
                    // published `elapsed` in the same critical section).
                    Poll::Ready(())
                }
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.deregister();
    }
}
