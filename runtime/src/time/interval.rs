//! [`Interval`]: ticks at a fixed period, with tokio's choices for ticks
//! missed while the task was busy ([`MissedTickBehavior`]).

use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Instant, Sleep, sleep_until};

/// How late a tick may be before it counts as missed.
const LATE: Duration = Duration::from_millis(5);

/// An interval whose first tick completes at once, then every `period`.
///
/// # Panics
/// If `period` is zero.
///
/// ```
/// use std::time::Duration;
/// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let start = keen::time::Instant::now();
///     let mut every = keen::time::interval(Duration::from_millis(10));
///     every.tick().await; // at once
///     every.tick().await;
///     every.tick().await;
///     assert_eq!(start.elapsed(), Duration::from_millis(20));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// An interval whose first tick completes at `start`, then every `period`.
///
/// # Panics
/// If `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "keen::time::interval: period must be non-zero"
    );
    Interval {
        delay: sleep_until(start),
        period,
        missed: MissedTickBehavior::Burst,
    }
}

/// What an [`Interval`] does with ticks it missed (the task was busy for more
/// than a period). Default: [`Burst`](Self::Burst).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up, keeping the
    /// original schedule.
    #[default]
    Burst,
    /// Restart the schedule from now: the next tick is one period after the
    /// late one.
    Delay,
    /// Drop the missed ticks; keep the original phase (the next tick is the
    /// next multiple of the period).
    Skip,
}

impl MissedTickBehavior {
    fn next(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => scheduled.saturating_add(period),
            MissedTickBehavior::Delay => now.saturating_add(period),
            MissedTickBehavior::Skip => {
                let late = now.duration_since(scheduled).as_nanos();
                let into_period = late % period.as_nanos();
                let back = Duration::from_nanos(u64::try_from(into_period).unwrap_or(u64::MAX));
                now.saturating_add(period - back)
            }
        }
    }
}

/// Future-producing ticker of [`interval`] and [`interval_at`].
#[derive(Debug)]
pub struct Interval {
    delay: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick; returns the instant it was scheduled for.
    /// Cancel-safe: dropping the future loses no tick.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if std::pin::Pin::new(&mut self.delay).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.delay.deadline();
        let now = Instant::now();
        let next = if now.duration_since(scheduled) > LATE {
            self.missed.next(scheduled, now, self.period)
        } else {
            scheduled.saturating_add(self.period)
        };
        self.delay.reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.delay.reset(Instant::now().saturating_add(self.period));
    }

    /// Makes the next tick complete at once.
    pub fn reset_immediately(&mut self) {
        self.delay.reset(Instant::now());
    }

    /// Makes the next tick complete at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        self.delay.reset(deadline);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The missed-tick behaviour.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the missed-tick behaviour.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}

use std::future::Future as _;
