//! A timer's slab entry and the public generational key that names it.

use crate::list::NIL;

/// Names one timer in a [`Wheel`](crate::Wheel).
///
/// Keys are generational: once the timer fired or was removed, its key is
/// stale forever. Operations on a stale key return `None`/`false` and never
/// touch a newer timer that reuses the same storage slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerKey {
    pub(crate) index: usize,
    pub(crate) generation: u64,
}

/// Which list an entry is linked into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Slot `slot` of level `level`.
    Slot { level: u8, slot: u8 },
    /// Due (`when <= elapsed`): returned by the next `poll_expired`.
    Pending,
    /// Beyond the wheel's current `2^36`-tick window.
    Overflow,
}

/// One timer: its value, deadline, identity and list links.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    pub(crate) value: T,
    pub(crate) when: u64,
    pub(crate) generation: u64,
    pub(crate) place: Place,
    pub(crate) prev: usize,
    pub(crate) next: usize,
}

impl<T> Entry<T> {
    pub(crate) fn new(value: T, when: u64, generation: u64, place: Place) -> Self {
        Entry {
            value,
            when,
            generation,
            place,
            prev: NIL,
            next: NIL,
        }
    }
}
