//! Level geometry: which level and slot a deadline belongs to, where a slot
//! starts, and the per-level `occupied` bitmap that finds the next busy slot
//! with one `trailing_zeros`.
//!
//! Level `L` (0-based) has 64 slots, each covering `64^L` ticks, so the level
//! as a whole covers `64^(L+1)` ticks. Windows are *aligned*: a level's window
//! is the block of `64^(L+1)` ticks that contains the wheel's current tick, so
//! every occupied slot lies strictly after the current tick's slot and no
//! rotation is needed to find the next one.
//!
//! | level | slot width (ticks) | level range (ticks) | at 10 µs per tick |
//! |-------|--------------------|---------------------|------------------|
//! | 0     | 1                  | 64                  | 10 µs / 640 µs     |
//! | 1     | 64                 | 4 096               | 640 µs / ~41 ms   |
//! | 2     | 4 096              | 262 144             | ~41 ms / ~2.6 s|
//! | 3     | 262 144            | 2^24                | ~2.6 s / ~2.8 min|
//! | 4     | 2^24               | 2^30                | ~2.8 min / ~3 h |
//! | 5     | 2^30               | 2^36                | ~3 h / ~8 d |

use crate::list::List;

/// Number of levels in the wheel.
pub const LEVELS: usize = 6;
/// Number of slots per level.
pub const SLOTS: usize = 64;
/// log2 of [`SLOTS`].
const SLOT_BITS: u32 = 6;
/// Ticks covered by the whole wheel (`64^6 = 2^36`). A deadline in a later
/// `2^36`-aligned window than the current tick waits in the overflow list.
pub const RANGE: u64 = 1 << (SLOT_BITS as u64 * LEVELS as u64);

/// The level a deadline `when > elapsed` belongs to, or `None` when it lies
/// in a later `RANGE`-aligned window (the overflow list holds it then).
///
/// The level is set by the highest bit in which `when` and `elapsed` differ:
/// the deadline sits in the first level whose aligned window still contains
/// both, which is also the finest level that can tell them apart.
#[inline]
pub(crate) fn level_for(elapsed: u64, when: u64) -> Option<usize> {
    let differing = (elapsed ^ when) | (SLOTS as u64 - 1);
    if differing >= RANGE {
        return None;
    }
    let top_bit = 63 - differing.leading_zeros();
    Some((top_bit / SLOT_BITS) as usize)
}

/// The slot of `when` within `level`.
#[inline]
pub(crate) fn slot_for(when: u64, level: usize) -> usize {
    ((when >> (level as u32 * SLOT_BITS)) & (SLOTS as u64 - 1)) as usize
}

/// The first tick covered by `slot` of `level`, in the window around `elapsed`.
/// This is when the slot must be processed: fired at level 0, cascaded above.
#[inline]
pub(crate) fn slot_start(elapsed: u64, level: usize, slot: usize) -> u64 {
    let level_bits = SLOT_BITS * (level as u32 + 1);
    let window_start = elapsed & !((1u64 << level_bits) - 1);
    window_start + ((slot as u64) << (level as u32 * SLOT_BITS))
}

/// The first tick of the `RANGE`-aligned window that contains `tick`.
#[inline]
pub(crate) fn window_start(tick: u64) -> u64 {
    tick & !(RANGE - 1)
}

/// One level: 64 slot lists and a bitmap of the non-empty ones.
#[derive(Debug)]
pub(crate) struct Level {
    /// Bit `s` is set exactly when `slots[s]` is non-empty.
    pub(crate) occupied: u64,
    pub(crate) slots: [List; SLOTS],
}

impl Level {
    pub(crate) const fn new() -> Self {
        Level {
            occupied: 0,
            slots: [List::EMPTY; SLOTS],
        }
    }

    /// The lowest occupied slot. Every occupied slot lies after the current
    /// tick's slot (aligned windows), so the lowest is also the next due.
    #[inline]
    pub(crate) fn next_occupied(&self) -> Option<usize> {
        (self.occupied != 0).then(|| self.occupied.trailing_zeros() as usize)
    }

    /// Takes a slot's whole list, leaving it empty.
    #[inline]
    pub(crate) fn take_slot(&mut self, slot: usize) -> List {
        self.occupied &= !(1 << slot);
        std::mem::replace(&mut self.slots[slot], List::EMPTY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_boundaries() {
        assert_eq!(level_for(0, 1), Some(0));
        assert_eq!(level_for(0, 63), Some(0));
        assert_eq!(level_for(0, 64), Some(1));
        assert_eq!(level_for(0, 4095), Some(1));
        assert_eq!(level_for(0, 4096), Some(2));
        assert_eq!(level_for(0, RANGE - 1), Some(5));
        assert_eq!(level_for(0, RANGE), None);
        assert_eq!(level_for(0, u64::MAX), None);
        // Alignment, not distance, decides: 63 -> 64 crosses a level-0 window.
        assert_eq!(level_for(63, 64), Some(1));
        assert_eq!(level_for(64, 100), Some(0));
        // The last window of u64 holds u64::MAX without overflow.
        assert_eq!(level_for(u64::MAX - 10, u64::MAX), Some(0));
        assert_eq!(level_for(window_start(u64::MAX), u64::MAX), Some(5));
    }

    #[test]
    fn slot_start_is_after_elapsed_for_every_level() {
        let elapsed = 123_456_789;
        for when in [
            elapsed + 1,
            elapsed + 64,
            elapsed + 5000,
            elapsed + (1 << 30),
        ] {
            let level = level_for(elapsed, when).unwrap();
            let slot = slot_for(when, level);
            let start = slot_start(elapsed, level, slot);
            assert!(start > elapsed && start <= when, "{when}: start {start}");
        }
    }

    #[test]
    fn slot_start_of_last_window_does_not_overflow() {
        let elapsed = window_start(u64::MAX);
        assert_eq!(slot_start(elapsed, 5, 63), u64::MAX - (1 << 30) + 1);
        assert_eq!(slot_start(u64::MAX - 1, 0, 63), u64::MAX);
    }

    #[test]
    fn next_occupied_uses_bitmap() {
        let mut level = Level::new();
        assert_eq!(level.next_occupied(), None);
        level.occupied = 0b1010_0000;
        assert_eq!(level.next_occupied(), Some(5));
        let _ = level.take_slot(5);
        assert_eq!(level.next_occupied(), Some(7));
    }
}
