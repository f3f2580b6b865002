//! The [`Wheel`]: insertion, removal, reset, and expiry with cascading.
//!
//! # Cascade rule
//! A timer is placed by the highest bit in which its deadline differs from
//! the wheel's current tick (`elapsed`), see the `level` module. When
//! `elapsed` reaches the first tick of an occupied slot, that slot's list is
//! taken whole and every timer in it is placed again relative to the new
//! `elapsed`: from level 0 into the due list, from a higher level into a
//! finer one. A timer therefore moves down at most five times before it fires.
//! Timers in a later `2^36`-tick window wait in an overflow list that is
//! re-placed when `elapsed` reaches the window of the earliest of them.
//!
//! # Complexity
//! `insert`, `remove` and `reset` are O(1) and allocate nothing once the slab
//! has grown to the peak number of live timers. `next_expiration` is O(levels):
//! one `trailing_zeros` per level. Expiring `n` timers costs O(n) plus at
//! most five cascade moves per timer.

use slab::Slab;

use crate::entry::{Entry, Place, TimerKey};
use crate::level::{self, LEVELS, Level};
use crate::list::List;

/// A hierarchical timing wheel over an abstract `u64` tick.
///
/// Deadlines are ticks; what a tick means (the runtime uses 10 µs) is up to
/// the owner, which reports the current tick to [`poll_expired`]. Timers due
/// in the same tick fire in insertion order; a timer whose deadline is at or
/// before [`elapsed`] fires on the next poll, ordered as if due at `elapsed`.
///
/// ```
/// use keen_timer_wheel::Wheel;
///
/// let mut wheel = Wheel::new();
/// let a = wheel.insert(10, "a");
/// let _b = wheel.insert(5, "b");
/// let _c = wheel.insert(10, "c");
/// assert_eq!(wheel.remove(a), Some("a"));
/// assert_eq!(wheel.next_expiration(), Some(5));
///
/// let mut fired = Vec::new();
/// while let Some((_, value)) = wheel.poll_expired(10) {
///     fired.push(value);
/// }
/// assert_eq!(fired, ["b", "c"]);
/// assert!(wheel.is_empty());
/// assert_eq!(wheel.elapsed(), 10);
/// ```
///
/// [`poll_expired`]: Wheel::poll_expired
/// [`elapsed`]: Wheel::elapsed
pub struct Wheel<T> {
    entries: Slab<Entry<T>>,
    levels: Box<[Level; LEVELS]>,
    /// Due timers, returned one by one by `poll_expired`.
    pending: List,
    /// Timers beyond the current `2^36`-tick window.
    overflow: List,
    /// A lower bound of the earliest deadline in `overflow` (`u64::MAX` when
    /// empty); removals may leave it low, which costs one early re-placement.
    overflow_min: u64,
    elapsed: u64,
    next_generation: u64,
}

/// The next point at which the wheel has work: fire or cascade.
#[derive(Debug, Clone, Copy)]
enum Point {
    Pending,
    Slot { level: usize, slot: usize, at: u64 },
    Overflow { at: u64 },
}

impl<T> Wheel<T> {
    /// An empty wheel at tick 0.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty wheel at tick 0 with room for `capacity` timers before the
    /// storage has to grow.
    pub fn with_capacity(capacity: usize) -> Self {
        Wheel {
            entries: Slab::with_capacity(capacity),
            levels: Box::new([const { Level::new() }; LEVELS]),
            pending: List::EMPTY,
            overflow: List::EMPTY,
            overflow_min: u64::MAX,
            elapsed: 0,
            next_generation: 0,
        }
    }

    /// The wheel's current tick: the latest tick that has been processed by
    /// [`poll_expired`](Wheel::poll_expired). Never decreases.
    pub fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Number of live timers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no timer is live.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a timer due at tick `when` carrying `value`.
    ///
    /// `when <= elapsed()` makes it due at once (next poll). Any `u64`,
    /// `u64::MAX` included, is accepted.
    pub fn insert(&mut self, when: u64, value: T) -> TimerKey {
        let generation = self.next_generation;
        self.next_generation += 1;
        let index = self
            .entries
            .insert(Entry::new(value, when, generation, Place::Pending));
        self.place(index);
        TimerKey { index, generation }
    }

    /// Removes a live timer and returns its value; `None` if the key is stale
    /// (the timer already fired or was removed).
    pub fn remove(&mut self, key: TimerKey) -> Option<T> {
        self.live(key)?;
        self.unlink(key.index);
        Some(self.entries.remove(key.index).value)
    }

    /// Moves a live timer to deadline `when`; `false` if the key is stale.
    /// The timer is ordered as if inserted now among timers due in its tick.
    pub fn reset(&mut self, key: TimerKey, when: u64) -> bool {
        if self.live(key).is_none() {
            return false;
        }
        self.unlink(key.index);
        self.entries[key.index].when = when;
        self.place(key.index);
        true
    }

    /// The value of a live timer, to update in place; `None` if the key is
    /// stale.
    pub fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        self.live(key)?;
        Some(&mut self.entries[key.index].value)
    }

    /// The deadline a live timer was given; `None` if the key is stale.
    pub fn deadline(&self, key: TimerKey) -> Option<u64> {
        self.live(key).map(|entry| entry.when)
    }

    /// The earliest tick at which [`poll_expired`](Wheel::poll_expired) has
    /// work to do, or `None` when the wheel is empty.
    ///
    /// No timer fires before this tick, so an owner may sleep until it. It is
    /// exact when the next timer is within 64 ticks; further out it may be an
    /// earlier *cascade point* (the start of the slot holding that timer), at
    /// which polling moves timers to finer levels and returns nothing.
    pub fn next_expiration(&self) -> Option<u64> {
        match self.next_point()? {
            Point::Pending => Some(self.elapsed),
            Point::Slot { at, .. } | Point::Overflow { at } => Some(at),
        }
    }

    /// Advances the wheel towards tick `now` and returns one expired timer,
    /// or `None` once every timer with a deadline at or before `now` has been
    /// returned (then `elapsed() == max(elapsed(), now)`).
    ///
    /// Timers fire in deadline order and, within one tick, in insertion
    /// order. Call it in a loop to drain; timers inserted between calls take
    /// their place in that order.
    pub fn poll_expired(&mut self, now: u64) -> Option<(TimerKey, T)> {
        loop {
            if let Some(index) = self.pending.pop_front(&mut self.entries) {
                let entry = self.entries.remove(index);
                let key = TimerKey {
                    index,
                    generation: entry.generation,
                };
                return Some((key, entry.value));
            }
            match self.next_point() {
                Some(Point::Slot { level, slot, at }) if at <= now => {
                    self.elapsed = at;
                    let mut list = self.levels[level].take_slot(slot);
                    self.replace_all(&mut list);
                }
                Some(Point::Overflow { at }) if at <= now => {
                    self.elapsed = at;
                    let mut list = std::mem::replace(&mut self.overflow, List::EMPTY);
                    self.overflow_min = u64::MAX;
                    self.replace_all(&mut list);
                }
                _ => {
                    self.elapsed = self.elapsed.max(now);
                    return None;
                }
            }
        }
    }

    fn live(&self, key: TimerKey) -> Option<&Entry<T>> {
        self.entries
            .get(key.index)
            .filter(|entry| entry.generation == key.generation)
    }

    fn next_point(&self) -> Option<Point> {
        if !self.pending.is_empty() {
            return Some(Point::Pending);
        }
        // Lower levels' windows end where the next higher slot starts, so the
        // first occupied level holds the earliest work.
        for (level, lvl) in self.levels.iter().enumerate() {
            if let Some(slot) = lvl.next_occupied() {
                let at = level::slot_start(self.elapsed, level, slot);
                return Some(Point::Slot { level, slot, at });
            }
        }
        if !self.overflow.is_empty() {
            let at = level::window_start(self.overflow_min);
            debug_assert!(at > self.elapsed);
            return Some(Point::Overflow { at });
        }
        None
    }

    /// Places every entry of a taken list again, in order.
    fn replace_all(&mut self, list: &mut List) {
        while let Some(index) = list.pop_front(&mut self.entries) {
            self.place(index);
        }
    }

    /// Links an unlinked entry into the list its deadline belongs to.
    fn place(&mut self, index: usize) {
        let when = self.entries[index].when;
        let place = if when <= self.elapsed {
            self.pending.push_back(&mut self.entries, index);
            Place::Pending
        } else if let Some(level) = level::level_for(self.elapsed, when) {
            let slot = level::slot_for(when, level);
            let lvl = &mut self.levels[level];
            lvl.slots[slot].push_back(&mut self.entries, index);
            lvl.occupied |= 1 << slot;
            Place::Slot {
                level: level as u8,
                slot: slot as u8,
            }
        } else {
            self.overflow.push_back(&mut self.entries, index);
            self.overflow_min = self.overflow_min.min(when);
            Place::Overflow
        };
        self.entries[index].place = place;
    }

    /// Unlinks a live entry from whichever list holds it.
    fn unlink(&mut self, index: usize) {
        match self.entries[index].place {
            Place::Slot { level, slot } => {
                let (level, slot) = (level as usize, slot as usize);
                let lvl = &mut self.levels[level];
                lvl.slots[slot].unlink(&mut self.entries, index);
                if lvl.slots[slot].is_empty() {
                    lvl.occupied &= !(1 << slot);
                }
            }
            Place::Pending => self.pending.unlink(&mut self.entries, index),
            Place::Overflow => {
                self.overflow.unlink(&mut self.entries, index);
                if self.overflow.is_empty() {
                    self.overflow_min = u64::MAX;
                }
            }
        }
    }
}

impl<T> Default for Wheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for Wheel<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wheel")
            .field("len", &self.len())
            .field("elapsed", &self.elapsed)
            .field("next_expiration", &self.next_expiration())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::RANGE;

    fn drain<T>(wheel: &mut Wheel<T>, now: u64) -> Vec<T> {
        std::iter::from_fn(|| wheel.poll_expired(now).map(|(_, v)| v)).collect()
    }

    #[test]
    fn fires_in_deadline_then_insertion_order() {
        let mut wheel = Wheel::new();
        for (when, name) in [(70, "c"), (3, "a"), (70, "d"), (3, "b"), (5000, "e")] {
            wheel.insert(when, name);
        }
        assert_eq!(drain(&mut wheel, 69), ["a", "b"]);
        assert_eq!(drain(&mut wheel, 4999), ["c", "d"]);
        assert_eq!(drain(&mut wheel, 5000), ["e"]);
        assert!(wheel.is_empty());
    }

    #[test]
    fn get_mut_updates_live_timers_only() {
        let mut wheel = Wheel::new();
        let key = wheel.insert(5, 1);
        *wheel.get_mut(key).unwrap() = 2;
        assert_eq!(drain(&mut wheel, 5), [2]);
        assert!(wheel.get_mut(key).is_none(), "fired key is stale");
    }

    #[test]
    fn past_and_present_deadlines_fire_on_next_poll() {
        let mut wheel = Wheel::new();
        assert_eq!(wheel.poll_expired(100), None);
        assert_eq!(wheel.elapsed(), 100);
        wheel.insert(100, "now");
        wheel.insert(7, "past");
        wheel.insert(101, "later");
        assert_eq!(wheel.next_expiration(), Some(100));
        assert_eq!(drain(&mut wheel, 100), ["now", "past"]);
        assert_eq!(drain(&mut wheel, 101), ["later"]);
    }

    #[test]
    fn insert_during_drain_keeps_order() {
        let mut wheel = Wheel::new();
        wheel.insert(10, 10);
        wheel.insert(20, 20);
        assert_eq!(wheel.poll_expired(30).map(|(_, v)| v), Some(10));
        assert_eq!(wheel.elapsed(), 10);
        wheel.insert(15, 15);
        wheel.insert(5, 5); // past: due at elapsed (10), so before 15
        assert_eq!(drain(&mut wheel, 30), [5, 15, 20]);
    }

    #[test]
    fn stale_keys_never_touch_newer_timers() {
        let mut wheel = Wheel::new();
        let old = wheel.insert(5, "old");
        assert_eq!(wheel.remove(old), Some("old"));
        let new = wheel.insert(6, "new");
        assert_eq!(old.index, new.index, "the slab reuses the slot");
        assert_eq!(wheel.remove(old), None);
        assert!(!wheel.reset(old, 1));
        assert_eq!(wheel.deadline(old), None);
        assert_eq!(wheel.deadline(new), Some(6));

        let (fired, _) = wheel.poll_expired(6).unwrap();
        assert_eq!(fired, new);
        let newer = wheel.insert(9, "newer");
        assert_eq!(wheel.remove(fired), None, "fired keys are stale");
        assert_eq!(wheel.remove(newer), Some("newer"));
    }

    #[test]
    fn reset_moves_between_levels_and_reorders() {
        let mut wheel = Wheel::new();
        let a = wheel.insert(1_000_000, "a");
        let _b = wheel.insert(50, "b");
        assert!(wheel.reset(a, 50));
        assert_eq!(wheel.next_expiration(), Some(50));
        assert_eq!(drain(&mut wheel, 50), ["b", "a"]);
        let c = wheel.insert(60, "c");
        assert!(wheel.reset(c, 10)); // into the past: due now
        assert_eq!(drain(&mut wheel, 50), ["c"]);
    }

    #[test]
    fn cascades_through_every_level() {
        let mut wheel = Wheel::new();
        let whens: Vec<u64> = (0..6).map(|l| 64u64.pow(l + 1) - 1).collect();
        for &when in &whens {
            wheel.insert(when, when);
        }
        let mut fired = Vec::new();
        while let Some(at) = wheel.next_expiration() {
            assert!(at >= wheel.elapsed());
            fired.extend(drain(&mut wheel, at));
        }
        assert_eq!(fired, whens);
        assert_eq!(wheel.elapsed(), RANGE - 1);
    }

    #[test]
    fn beyond_range_and_u64_max() {
        let mut wheel = Wheel::new();
        wheel.insert(u64::MAX, "max");
        wheel.insert(RANGE, "range");
        wheel.insert(3 * RANGE + 17, "far");
        assert_eq!(wheel.next_expiration(), Some(RANGE));
        assert_eq!(drain(&mut wheel, RANGE - 1), Vec::<&str>::new());
        assert_eq!(drain(&mut wheel, RANGE), ["range"]);
        assert_eq!(drain(&mut wheel, 3 * RANGE + 16), Vec::<&str>::new());
        assert_eq!(drain(&mut wheel, 3 * RANGE + 17), ["far"]);
        assert_eq!(drain(&mut wheel, u64::MAX - 1), Vec::<&str>::new());
        assert_eq!(drain(&mut wheel, u64::MAX), ["max"]);
        assert_eq!(wheel.elapsed(), u64::MAX);
        // At the end of time, everything is due at once.
        wheel.insert(u64::MAX, "again");
        assert_eq!(drain(&mut wheel, u64::MAX), ["again"]);
    }

    #[test]
    fn removed_overflow_timer_costs_one_early_pass_only() {
        let mut wheel = Wheel::new();
        let near = wheel.insert(RANGE + 1, "near");
        wheel.insert(5 * RANGE, "far");
        wheel.remove(near);
        // The stale lower bound makes the wheel look at RANGE once ...
        assert_eq!(wheel.next_expiration(), Some(RANGE));
        assert_eq!(drain(&mut wheel, RANGE), Vec::<&str>::new());
        // ... then it knows the real window.
        assert_eq!(wheel.next_expiration(), Some(5 * RANGE));
        assert_eq!(drain(&mut wheel, 5 * RANGE), ["far"]);
    }

    #[test]
    fn next_expiration_is_a_lower_bound() {
        let mut wheel = Wheel::new();
        assert_eq!(wheel.next_expiration(), None);
        wheel.insert(10, ());
        assert_eq!(wheel.next_expiration(), Some(10));
        let mut wheel = Wheel::new();
        wheel.insert(100, ());
        // Level 1: the slot starts at 64, a cascade point before the deadline.
        assert_eq!(wheel.next_expiration(), Some(64));
        assert_eq!(wheel.poll_expired(64), None);
        assert_eq!(wheel.next_expiration(), Some(100));
    }

    #[test]
    fn huge_jump_is_cheap() {
        let mut wheel = Wheel::new();
        wheel.insert(u64::MAX / 2, 1);
        wheel.insert(u64::MAX / 3, 2);
        // Must not walk 2^27 windows one by one.
        assert_eq!(drain(&mut wheel, u64::MAX), [2, 1]);
    }
}
