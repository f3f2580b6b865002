//! The runtime's clock: real time, or a paused clock that only moves when
//! told to (`time::advance`) or when every thread is idle (auto-advance), and
//! the conversion between instants and the timer wheel's millisecond ticks.
//!
//! Tick `n` is the instant `base + n ms`. A deadline rounds *up* to its tick
//! and "now" rounds *down*, so a timer never fires before its deadline.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant as StdInstant};

const NANOS_PER_TICK: u128 = 1_000_000;

/// A runtime's clock.
#[derive(Debug)]
pub(crate) struct Clock {
    base: StdInstant,
    paused: AtomicBool,
    /// While paused: nanoseconds from `base` to "now".
    offset: AtomicU64,
}

impl Clock {
    pub(crate) fn new(start_paused: bool) -> Clock {
        Clock {
            base: StdInstant::now(),
            paused: AtomicBool::new(start_paused),
            offset: AtomicU64::new(0),
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(SeqCst)
    }

    /// Now, by this clock.
    pub(crate) fn now(&self) -> StdInstant {
        if self.is_paused() {
            self.base + Duration::from_nanos(self.offset.load(SeqCst))
        } else {
            StdInstant::now()
        }
    }

    /// Freezes the clock at the current instant rounded up to a whole tick
    /// (so paused deadlines land exactly on ticks); no-op if already paused.
    pub(crate) fn pause(&self) {
        if !self.is_paused() {
            let now = nanos(self.since_base(StdInstant::now()));
            let aligned = now.div_ceil(NANOS_PER_TICK as u64) * NANOS_PER_TICK as u64;
            // `fetch_max`: concurrent pauses never move the clock back.
            self.offset.fetch_max(aligned, SeqCst);
            self.paused.store(true, SeqCst);
        }
    }

    /// Moves a paused clock forward by `by` (saturating).
    ///
    /// # Panics
    /// If the clock is not paused.
    #[track_caller]
    pub(crate) fn advance(&self, by: Duration) {
        assert!(
            self.is_paused(),
            "keen::time::advance needs a paused clock: call keen::time::pause() first \
             or build the runtime with Builder::start_paused(true)"
        );
        let by = nanos(by);
        let _ = self
            .offset
            .fetch_update(SeqCst, SeqCst, |o| Some(o.saturating_add(by)));
    }

    /// Moves a paused clock forward to tick `tick`, if it is behind it.
    pub(crate) fn advance_to_tick(&self, tick: u64) {
        let target = u64::try_from(u128::from(tick) * NANOS_PER_TICK).unwrap_or(u64::MAX);
        self.offset.fetch_max(target, SeqCst);
    }

    /// The tick a deadline falls in, rounded up; instants before the clock's
    /// base are tick 0.
    pub(crate) fn deadline_tick(&self, deadline: StdInstant) -> u64 {
        // u64 arithmetic: a u128 division is a library call on the hot path.
        let d = self.since_base(deadline);
        let sub = u64::from(d.subsec_nanos().div_ceil(1_000_000));
        d.as_secs().saturating_mul(1000).saturating_add(sub)
    }

    /// The last tick that has fully begun by now (rounded down).
    pub(crate) fn now_tick(&self) -> u64 {
        self.tick_at(self.now())
    }

    /// The last tick that has fully begun at `t` (rounded down).
    pub(crate) fn tick_at(&self, t: StdInstant) -> u64 {
        // u64 arithmetic, as in `deadline_tick`.
        let d = self.since_base(t);
        let sub = u64::from(d.subsec_millis());
        d.as_secs().saturating_mul(1000).saturating_add(sub)
    }

    /// How long from now until tick `tick` begins (zero if it has).
    pub(crate) fn until_tick(&self, tick: u64) -> Duration {
        let target = Duration::from_millis(tick);
        target.saturating_sub(self.since_base(self.now()))
    }

    fn since_base(&self, t: StdInstant) -> Duration {
        t.saturating_duration_since(self.base)
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_and_now_rounds_down() {
        let clock = Clock::new(true);
        let base = clock.now();
        assert_eq!(clock.deadline_tick(base), 0);
        assert_eq!(clock.deadline_tick(base + Duration::from_micros(1)), 1);
        assert_eq!(clock.deadline_tick(base + Duration::from_millis(3)), 3);
        clock.advance(Duration::from_micros(2_500));
        assert_eq!(clock.now_tick(), 2);
        assert_eq!(clock.until_tick(3), Duration::from_micros(500));
        assert_eq!(clock.until_tick(1), Duration::ZERO);
    }

    #[test]
    fn huge_values_saturate() {
        let clock = Clock::new(true);
        clock.advance(Duration::MAX);
        clock.advance(Duration::MAX);
        assert_eq!(clock.offset.load(SeqCst), u64::MAX);
        clock.advance_to_tick(u64::MAX);
        let far = clock.now() + Duration::from_secs(1 << 40);
        assert!(clock.deadline_tick(far) > 1 << 40);
    }

    #[test]
    fn paused_clock_stands_still_until_advanced() {
        let clock = Clock::new(false);
        clock.pause();
        let t = clock.now();
        std::thread::yield_now();
        assert_eq!(clock.now(), t);
        clock.advance_to_tick(clock.now_tick() + 10);
        assert!(clock.now() >= t + Duration::from_millis(9));
    }
}
