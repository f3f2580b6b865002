//! The readiness word of one registration: every bit a task may wait on,
//! and a tick, in one `AtomicUsize`, so "what is ready" and "as of which
//! reactor event" are always read and changed together.
//!
//! | bits   | name           | set by                          | cleared by                              |
//! |--------|----------------|---------------------------------|-----------------------------------------|
//! | 0      | `READABLE`     | a reactor event (`EPOLLIN`)     | a task whose read got `WouldBlock`       |
//! | 1      | `WRITABLE`     | a reactor event (`EPOLLOUT`)    | a task whose write got `WouldBlock`      |
//! | 2      | `READ_CLOSED`  | a reactor event (`RDHUP`/`HUP`) | never (the peer cannot un-close)         |
//! | 3      | `WRITE_CLOSED` | a reactor event (`HUP`, reset)  | never                                   |
//! | 4      | `ERROR`        | a reactor event (`EPOLLERR`)    | a task whose operation got `WouldBlock`  |
//! | 5      | `SHUTDOWN`     | the reactor's shutdown          | never: every later wait fails            |
//! | 6..8   | (unused, 0)    |                                 |                                         |
//! | 8..32  | tick (24 bits) | +1 (wrapping) by every reactor event and by shutdown | never          |
//!
//! The rule that makes edge-triggered readiness safe: a task that saw
//! readiness `r` at tick `t` and then got `WouldBlock` clears `r` only if
//! the word's tick is still `t` (one compare-exchange, [`State::clear`]).
//! An event that arrived meanwhile bumped the tick, so the clear is
//! skipped and the task tries again: a newer edge is never lost. Events
//! set bits and bump the tick in the same compare-exchange, so no reader
//! sees new bits with an old tick.
//!
//! Initial readiness is optimistic for sockets that may already hold data
//! (accepted streams, listeners, bound datagram sockets): their first
//! operation tries the system call at once, which is what lets an eagerly
//! spawned handler read in its first poll. A connecting socket starts empty.
//!
//! A tick that wraps (2^24 events between a task's read of the word and
//! its clear) could alias; the task then clears a readiness the reactor
//! re-reported, and the next edge restores it.

use crate::io::ready::{ALL, Ready};
use crate::loom::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire};

/// Set once the reactor shut down: every wait fails from then on.
const SHUTDOWN: usize = 1 << 5;
/// The tick's lowest bit.
const TICK_SHIFT: u32 = 8;
/// The tick's width mask (24 bits, so the word fits a 32-bit `usize`).
const TICK_MASK: usize = (1 << 24) - 1;

/// Readiness seen at one tick: what a task clears after `WouldBlock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadyEvent {
    pub(crate) tick: usize,
    pub(crate) ready: Ready,
}

/// A snapshot: readiness (masked by the interest asked for), or shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Snapshot {
    /// The reactor is gone.
    Shutdown,
    /// `event.ready` may be empty.
    Live(ReadyEvent),
}

/// The readiness word.
#[derive(Debug)]
pub(crate) struct State(AtomicUsize);

fn tick_of(word: usize) -> usize {
    (word >> TICK_SHIFT) & TICK_MASK
}

fn with_next_tick(word: usize) -> usize {
    let tick = (tick_of(word) + 1) & TICK_MASK;
    (word & !(TICK_MASK << TICK_SHIFT)) | (tick << TICK_SHIFT)
}

impl State {
    /// A word with `initial` readiness at tick 0.
    pub(crate) fn new(initial: Ready) -> State {
        State(AtomicUsize::new(initial.bits()))
    }

    /// What is ready among `mask`, and at which tick.
    pub(crate) fn snapshot(&self, mask: Ready) -> Snapshot {
        let word = self.0.load(Acquire);
        if word & SHUTDOWN != 0 {
            return Snapshot::Shutdown;
        }
        Snapshot::Live(ReadyEvent {
            tick: tick_of(word),
            ready: Ready::from_bits(word) & mask,
        })
    }

    /// The reactor saw `ready`: set it and bump the tick, in one step.
    pub(crate) fn set(&self, ready: Ready) {
        self.update(|word| with_next_tick(word | (ready.bits() & ALL)));
    }

    /// The reactor shut down: every current and later wait fails.
    pub(crate) fn shut_down(&self) {
        self.update(|word| with_next_tick(word | SHUTDOWN));
    }

    /// A task got `WouldBlock` after seeing `event`: clear what it saw,
    /// unless the tick moved on (a newer event may have set it again).
    /// Closed bits stay: a closed side never reopens.
    pub(crate) fn clear(&self, event: ReadyEvent) {
        let clearable = event.ready - (Ready::READ_CLOSED | Ready::WRITE_CLOSED);
        let mut word = self.0.load(Acquire);
        loop {
            if tick_of(word) != event.tick {
                return;
            }
            let new = word & !clearable.bits();
            if new == word {
                return;
            }
            match self.0.compare_exchange_weak(word, new, AcqRel, Acquire) {
                Ok(_) => return,
                Err(actual) => word = actual,
            }
        }
    }

    fn update(&self, f: impl Fn(usize) -> usize) {
        let mut word = self.0.load(Acquire);
        loop {
            match self.0.compare_exchange_weak(word, f(word), AcqRel, Acquire) {
                Ok(_) => return,
                Err(actual) => word = actual,
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn live(state: &State, mask: Ready) -> ReadyEvent {
        match state.snapshot(mask) {
            Snapshot::Live(event) => event,
            Snapshot::Shutdown => panic!("shut down"),
        }
    }

    #[test]
    fn a_clear_at_the_seen_tick_removes_only_what_was_seen() {
        let state = State::new(Ready::EMPTY);
        state.set(Ready::READABLE | Ready::WRITABLE);
        let seen = live(&state, Ready::READABLE);
        assert_eq!(seen.ready, Ready::READABLE);
        state.clear(seen);
        assert_eq!(live(&state, Ready::ALL).ready, Ready::WRITABLE);
    }

    #[test]
    fn a_newer_event_survives_a_stale_clear() {
        let state = State::new(Ready::EMPTY);
        state.set(Ready::READABLE);
        let seen = live(&state, Ready::READABLE);
        state.set(Ready::READABLE); // a new edge while the task read
        state.clear(seen);
        assert!(live(&state, Ready::READABLE).ready.is_readable());
    }

    #[test]
    fn closed_bits_are_never_cleared() {
        let state = State::new(Ready::EMPTY);
        state.set(Ready::READABLE | Ready::READ_CLOSED);
        let seen = live(&state, Ready::ALL);
        state.clear(seen);
        assert_eq!(live(&state, Ready::ALL).ready, Ready::READ_CLOSED);
    }

    #[test]
    fn the_tick_wraps_within_its_bits() {
        let state = State::new(Ready::READABLE);
        for _ in 0..(TICK_MASK + 2) {
            state.set(Ready::EMPTY);
        }
        let seen = live(&state, Ready::ALL);
        assert_eq!(seen.tick, 1);
        assert_eq!(seen.ready, Ready::READABLE);
    }

    #[test]
    fn shutdown_is_sticky() {
        let state = State::new(Ready::ALL);
        state.shut_down();
        state.set(Ready::READABLE);
        assert_eq!(state.snapshot(Ready::ALL), Snapshot::Shutdown);
    }
}
