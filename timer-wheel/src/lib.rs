//! `keen-timer-wheel`: a standalone hierarchical timing wheel.
//!
//! A [`Wheel<T>`] holds timers, each a `u64` deadline tick and a value of
//! type `T`, and hands the values back once the owner reports that time has
//! reached their deadline. It is the scheme of Varghese & Lauck, "Hashed and
//! Hierarchical Timing Wheels" (SOSP 1987), with 6 levels of 64 slots over an
//! abstract tick: the `keen` runtime uses one tick per 10 µs, but the
//! wheel knows nothing of clocks, tasks or wakers.
//!
//! # Geometry
//! Level `L` has 64 slots of `64^L` ticks each and so covers `64^(L+1)`
//! ticks; the six levels cover `2^36` ticks (about 8 days at 10 µs).
//! Each level keeps an `occupied: u64` bitmap, so the next busy slot is one
//! `trailing_zeros` away and no slot is ever scanned. Timers further out than
//! the wheel's window wait in an overflow list; any `u64` deadline works.
//!
//! | level | slot width | range  | at 10 µs           |
//! |-------|------------|--------|--------------------|
//! | 0     | 1          | 64     | 10 µs / 640 µs     |
//! | 1     | 64         | 2^12   | 640 µs / ~41 ms   |
//! | 2     | 2^12       | 2^18   | ~41 ms / ~2.6 s|
//! | 3     | 2^18       | 2^24   | ~2.6 s / ~2.8 min|
//! | 4     | 2^24       | 2^30   | ~2.8 min / ~3 h |
//! | 5     | 2^30       | 2^36   | ~3 h / ~8 d |
//!
//! # Cascading
//! A timer sits at the level of the highest bit in which its deadline differs
//! from the current tick. When the current tick reaches the start of an
//! occupied slot above level 0, the timers in it move to finer levels; at
//! level 0 they are due. See the [`wheel`] module for the exact rule.
//!
//! # Storage and keys
//! Timers live in a [`slab::Slab`] and are linked into slot lists by index,
//! so a steady state of inserts and removals allocates nothing. A
//! [`TimerKey`] is generational: a key whose timer fired or was removed is
//! stale and can never reach a newer timer stored in the same slab slot.
//!
//! # Complexity
//! | operation          | cost                                   |
//! |--------------------|----------------------------------------|
//! | `insert`           | O(1)                                   |
//! | `remove`, `reset`  | O(1)                                   |
//! | `next_expiration`  | O(levels), one bit scan per level      |
//! | `poll_expired`     | O(1) amortised per timer (≤ 5 cascades)|
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod entry;
pub mod level;
mod list;
pub mod wheel;

pub use entry::TimerKey;
pub use level::{LEVELS, RANGE, SLOTS};
pub use wheel::Wheel;
