//! The tasks waiting on one registration, kept apart by direction: each
//! direction has one slot for the `poll_*` methods (`AsyncRead`,
//! `AsyncWrite`, `poll_accept`: one waiter, the last to poll, as in tokio)
//! and a list for readiness futures (`readable()`, `recv_from()` on a
//! shared `&UdpSocket`, …), where every waiter is woken. A reactor event
//! takes the wakers of the directions it concerns; the caller wakes them
//! after releasing the lock.

use std::task::Waker;

use slab::Slab;

use crate::io::ready::{Interest, Ready};

/// One direction of interest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Readable, read-closed, error.
    Read = 0,
    /// Writable, write-closed, error.
    Write = 1,
}

impl Direction {
    /// The readiness that completes a wait in this direction.
    pub(crate) fn mask(self) -> Ready {
        self.interest().mask()
    }

    /// The interest of this direction.
    pub(crate) fn interest(self) -> Interest {
        match self {
            Direction::Read => Interest::READABLE,
            Direction::Write => Interest::WRITABLE,
        }
    }

    /// The directions `interest` covers.
    pub(crate) fn of(interest: Interest) -> impl Iterator<Item = Direction> {
        [
            interest.is_readable().then_some(Direction::Read),
            interest.is_writable().then_some(Direction::Write),
        ]
        .into_iter()
        .flatten()
    }
}

/// The waiters of one registration (behind its mutex).
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    /// The `poll_*` waiter of each direction.
    slots: [Option<Waker>; 2],
    /// Readiness futures of each direction; an entry's waker is taken
    /// when woken, and the entry itself removed by its future.
    lists: [Slab<Option<Waker>>; 2],
}

impl Waiters {
    /// Stores `waker` as the `poll_*` waiter of `dir` (if it changed).
    pub(crate) fn set_slot(&mut self, dir: Direction, waker: &Waker) {
        set(&mut self.slots[dir as usize], waker);
    }

    /// Adds a readiness future's waiter; returns its key.
    pub(crate) fn insert(&mut self, dir: Direction, waker: &Waker) -> usize {
        self.lists[dir as usize].insert(Some(waker.clone()))
    }

    /// Points a readiness future's entry at `waker` (if it changed).
    pub(crate) fn update(&mut self, dir: Direction, key: usize, waker: &Waker) {
        if let Some(entry) = self.lists[dir as usize].get_mut(key) {
            set(entry, waker);
        }
    }

    /// Removes a readiness future's entry; returns its waker if it was not
    /// woken.
    pub(crate) fn remove(&mut self, dir: Direction, key: usize) -> Option<Waker> {
        self.lists[dir as usize].try_remove(key).flatten()
    }

    /// Takes the waker of every waiter that `ready` concerns into `out`.
    pub(crate) fn take(&mut self, ready: Ready, out: &mut Vec<Waker>) {
        for dir in [Direction::Read, Direction::Write] {
            if (ready & dir.mask()).is_empty() {
                continue;
            }
            out.extend(self.slots[dir as usize].take());
            out.extend(
                self.lists[dir as usize]
                    .iter_mut()
                    .filter_map(|(_, w)| w.take()),
            );
        }
    }

    /// Waiters of either direction still registered (for tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn len(&self) -> usize {
        self.slots.iter().flatten().count() + self.lists.iter().map(Slab::len).sum::<usize>()
    }
}

fn set(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(old) if old.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}
