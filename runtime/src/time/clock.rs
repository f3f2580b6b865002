//! The runtime's clock: real time, or a paused clock that only moves when
//! told to (`time::advance`) or when every thread is idle (auto-advance), and
//! the conversion between instants and the timer wheel's ticks.
//!
//! Tick `n` is the instant `base + n * 10 µs` (`NANOS_PER_TICK`). A deadline
//! rounds *up* to its tick and "now" rounds *down*, so a timer never fires
//! before its deadline, and fires at most one tick (10 µs) after it, plus
//! the time the thread takes to wake. Why 10 µs: `docs/timers.md`.
//!
//! Every conversion is u64 arithmetic with constant divisors (a multiply
//! and a shift; a u128 division is a library call on the hot path) and
//! saturates: a deadline too far for a `u64` of ticks becomes tick
//! `u64::MAX`, a tick too far for the clock's nanosecond offset becomes
//! the largest offset.
//!
//! It also keeps a process-wide count of paused clocks ([`any_paused`]), so
//! a hot path that only needs "is this runtime's clock paused?" can skip
//! finding the runtime's clock while no clock anywhere is paused.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant as StdInstant};

/// Nanoseconds per tick of the timer wheel.
const NANOS_PER_TICK: u64 = 10_000;
/// Ticks per second. A tick divides a second (and a millisecond) exactly,
/// so whole-millisecond deadlines on a paused clock land on tick edges.
const TICKS_PER_SEC: u64 = 1_000_000_000 / NANOS_PER_TICK;
const _: () = assert!(1_000_000 % NANOS_PER_TICK == 0, "a tick divides 1 ms");

/// The ticks a duration spans, rounded up (saturating).
fn ticks_up(d: Duration) -> u64 {
    let sub = u64::from(d.subsec_nanos().div_ceil(NANOS_PER_TICK as u32));
    d.as_secs()
        .saturating_mul(TICKS_PER_SEC)
        .saturating_add(sub)
}

/// The whole ticks in a duration, rounded down (saturating).
fn ticks_down(d: Duration) -> u64 {
    let sub = u64::from(d.subsec_nanos() / NANOS_PER_TICK as u32);
    d.as_secs()
        .saturating_mul(TICKS_PER_SEC)
        .saturating_add(sub)
}

/// The duration from tick 0 to the start of tick `tick` (exact: every
/// `u64` of ticks fits a `Duration`).
pub(crate) fn tick_duration(tick: u64) -> Duration {
    let nanos = (tick % TICKS_PER_SEC) * NANOS_PER_TICK; // < 1e9
    Duration::new(tick / TICKS_PER_SEC, nanos as u32)
}

/// A duration as whole ticks, rounded up: how many ticks a span of time
/// is (for constants such as the driver's deferral distance).
pub(crate) const fn ticks_in(d: Duration) -> u64 {
    (d.as_nanos() as u64).div_ceil(NANOS_PER_TICK)
}

/// The clocks of this process that are paused, or about to be (see
/// [`Clock::paused_count`] for the invariant).
static PAUSED_CLOCKS: AtomicUsize = AtomicUsize::new(0);

/// Whether some clock in this process may be paused. `false` means no clock
/// was paused at the moment of the read, so neither is the current
/// runtime's: a caller may then treat the clock as real without finding it.
#[inline]
pub(crate) fn any_paused() -> bool {
    PAUSED_CLOCKS.load(SeqCst) != 0
}

/// A runtime's clock.
#[derive(Debug)]
pub(crate) struct Clock {
    base: StdInstant,
    paused: AtomicBool,
    /// While paused: nanoseconds from `base` to "now".
    offset: AtomicU64,
    /// The count of paused clocks this one is in: [`PAUSED_CLOCKS`]
    /// (a test's own counter in unit tests).
    paused_count: &'static AtomicUsize,
}

impl Clock {
    pub(crate) fn new(start_paused: bool) -> Clock {
        Clock::counted_in(start_paused, &PAUSED_CLOCKS)
    }

    /// A clock counted in `paused_count` while it is paused.
    ///
    /// The invariant: at every moment the count is at least the number of
    /// its clocks that are paused (it is raised *before* a clock pauses and
    /// lowered only once a paused clock is gone; clocks never resume), and
    /// equal to it whenever no pause is in progress. So a reader that sees
    /// 0 knows that no clock was paused then; one that sees more must ask
    /// the clock itself.
    fn counted_in(start_paused: bool, paused_count: &'static AtomicUsize) -> Clock {
        if start_paused {
            paused_count.fetch_add(1, SeqCst);
        }
        Clock {
            base: StdInstant::now(),
            paused: AtomicBool::new(start_paused),
            offset: AtomicU64::new(0),
            paused_count,
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
            let aligned = now.div_ceil(NANOS_PER_TICK).saturating_mul(NANOS_PER_TICK);
            // `fetch_max`: concurrent pauses never move the clock back.
            self.offset.fetch_max(aligned, SeqCst);
            // Counted before the clock is paused (see `counted_in`); of
            // concurrent pauses only the one that flips the flag keeps its
            // count.
            self.paused_count.fetch_add(1, SeqCst);
            if self
                .paused
                .compare_exchange(false, true, SeqCst, SeqCst)
                .is_err()
            {
                self.paused_count.fetch_sub(1, SeqCst);
            }
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

    /// Moves a paused clock forward to the start of tick `tick`, if it is
    /// behind it.
    pub(crate) fn advance_to_tick(&self, tick: u64) {
        self.offset
            .fetch_max(tick.saturating_mul(NANOS_PER_TICK), SeqCst);
    }

    /// The tick a deadline falls in, rounded up; instants before the clock's
    /// base are tick 0.
    pub(crate) fn deadline_tick(&self, deadline: StdInstant) -> u64 {
        ticks_up(self.since_base(deadline))
    }

    /// The last tick that has fully begun by now (rounded down).
    pub(crate) fn now_tick(&self) -> u64 {
        self.tick_at(self.now())
    }

    /// The last tick that has fully begun at `t` (rounded down).
    pub(crate) fn tick_at(&self, t: StdInstant) -> u64 {
        ticks_down(self.since_base(t))
    }

    /// The instant tick `tick` begins on the real clock, or `None` if an
    /// `Instant` cannot hold it.
    pub(crate) fn tick_instant(&self, tick: u64) -> Option<StdInstant> {
        self.base.checked_add(tick_duration(tick))
    }

    fn since_base(&self, t: StdInstant) -> Duration {
        t.saturating_duration_since(self.base)
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        if *self.paused.get_mut() {
            self.paused_count.fetch_sub(1, SeqCst);
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_nanos(NANOS_PER_TICK);

    #[test]
    fn deadlines_round_up_and_now_rounds_down() {
        let clock = Clock::new(true);
        let base = clock.now();
        assert_eq!(clock.deadline_tick(base), 0);
        assert_eq!(clock.deadline_tick(base + Duration::from_nanos(1)), 1);
        assert_eq!(clock.deadline_tick(base + T), 1);
        assert_eq!(clock.deadline_tick(base + T + Duration::from_nanos(1)), 2);
        assert_eq!(clock.deadline_tick(base + 3 * T), 3);
        clock.advance(T * 5 / 2);
        assert_eq!(clock.now_tick(), 2);
        assert_eq!(clock.tick_instant(3).unwrap() - clock.now(), T / 2);
        assert!(clock.tick_instant(2).unwrap() <= clock.now());
    }

    #[test]
    fn tick_edges_are_exact() {
        let clock = Clock::new(true);
        let base = clock.now();
        // Just before, at and just after an edge, on both sides of a second.
        let one_ns = Duration::from_nanos(1);
        for edge in [1, 99, TICKS_PER_SEC - 1, TICKS_PER_SEC, TICKS_PER_SEC + 1] {
            let at = base + tick_duration(edge);
            assert_eq!(clock.deadline_tick(at), edge);
            assert_eq!(clock.deadline_tick(at - one_ns), edge);
            assert_eq!(clock.deadline_tick(at + one_ns), edge + 1);
            assert_eq!(clock.tick_at(at), edge);
            assert_eq!(clock.tick_at(at - one_ns), edge - 1);
            assert_eq!(clock.tick_at(at + one_ns), edge);
            assert_eq!(clock.tick_instant(edge), Some(at));
        }
        // Whole milliseconds and seconds are whole ticks.
        assert_eq!(
            tick_duration(ticks_in(Duration::from_millis(1))),
            Duration::from_millis(1)
        );
        assert_eq!(tick_duration(TICKS_PER_SEC), Duration::from_secs(1));
        assert_eq!(
            ticks_in(Duration::from_millis(100)) * NANOS_PER_TICK,
            100_000_000
        );
        // Instants before the base are tick 0.
        let before = Clock::new(true);
        assert_eq!(before.deadline_tick(base), 0);
        assert_eq!(before.tick_at(base), 0);
    }

    #[test]
    fn a_deadline_tick_begins_at_or_after_it_and_within_a_tick() {
        let clock = Clock::new(true);
        let base = clock.now();
        let odd = [
            999_999_999,
            1_000_000_000,
            1_000_000_001,
            86_400_000_000_007,
        ];
        for ns in (0..3 * NANOS_PER_TICK).step_by(997).chain(odd) {
            let d = base + Duration::from_nanos(ns);
            let tick = clock.deadline_tick(d);
            let begins = clock.tick_instant(tick).unwrap();
            assert!(begins >= d && begins - d < T, "{ns} ns: tick {tick}");
            assert!(clock.tick_at(d) <= tick);
            if tick > 0 {
                assert!(clock.tick_instant(tick - 1).unwrap() < d, "{ns} ns");
            }
        }
    }

    #[test]
    fn huge_values_saturate() {
        let clock = Clock::new(true);
        clock.advance(Duration::MAX);
        clock.advance(Duration::MAX);
        assert_eq!(clock.offset.load(SeqCst), u64::MAX);
        clock.advance_to_tick(u64::MAX);
        assert_eq!(clock.offset.load(SeqCst), u64::MAX);
        assert_eq!(ticks_up(Duration::MAX), u64::MAX);
        assert_eq!(ticks_down(Duration::MAX), u64::MAX);
        assert_eq!(
            ticks_up(Duration::from_secs(u64::MAX / TICKS_PER_SEC + 1)),
            u64::MAX
        );
        // The largest tick is still a duration (about 5.8 million years).
        let last = tick_duration(u64::MAX);
        assert_eq!(ticks_down(last), u64::MAX);
        let far = clock.now() + Duration::from_secs(1 << 40);
        assert!(clock.deadline_tick(far) > 1 << 40);
    }

    #[test]
    fn pause_aligns_to_a_tick() {
        let clock = Clock::new(false);
        std::thread::sleep(Duration::from_micros(3));
        clock.pause();
        let offset = clock.offset.load(SeqCst);
        assert_eq!(offset % NANOS_PER_TICK, 0);
        assert_eq!(
            tick_duration(clock.now_tick()),
            Duration::from_nanos(offset)
        );
    }

    #[test]
    fn the_paused_count_follows_pause_and_drop() {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let count = || COUNT.load(SeqCst);
        let real = Clock::counted_in(false, &COUNT);
        assert_eq!(count(), 0);
        let started = Clock::counted_in(true, &COUNT);
        assert_eq!(count(), 1);
        real.pause();
        assert_eq!(count(), 2);
        // Pausing a paused clock counts nothing, nor do advances.
        real.pause();
        started.pause();
        started.advance(T);
        assert_eq!(count(), 2);
        drop(started);
        assert_eq!(count(), 1);
        drop(real);
        assert_eq!(count(), 0);
        // A clock dropped unpaused was never counted.
        drop(Clock::counted_in(false, &COUNT));
        assert_eq!(count(), 0);
        // Racing pauses of one clock count it once.
        let clock = Clock::counted_in(false, &COUNT);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| clock.pause());
            }
        });
        assert!(clock.is_paused());
        assert_eq!(count(), 1);
        drop(clock);
        assert_eq!(count(), 0);
    }

    #[test]
    fn a_paused_clock_is_in_the_process_count() {
        let clock = Clock::new(true);
        assert!(any_paused());
        let other = Clock::new(false);
        other.pause();
        assert!(any_paused());
        drop((clock, other));
    }

    #[test]
    fn paused_clock_stands_still_until_advanced() {
        let clock = Clock::new(false);
        clock.pause();
        let t = clock.now();
        std::thread::yield_now();
        assert_eq!(clock.now(), t);
        clock.advance_to_tick(clock.now_tick() + 10);
        assert_eq!(clock.now(), t + 10 * T);
    }
}
