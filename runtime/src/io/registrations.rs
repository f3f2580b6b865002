//! The reactor's set of registrations: a slab of `Arc<ScheduledIo>` named
//! by tokens that carry the slot's index and a generation.
//!
//! Lifetime rule: a registration's memory outlives every event that can
//! name it. A socket's drop deregisters its fd from epoll and then only
//! *releases* its token (a push onto `released`); the reactor frees
//! released entries at the start of its next turn, after it finished
//! dispatching the batch of events that may still name them. A slot is
//! therefore reused only once no event for its old occupant can be in
//! flight, and the generation in the token makes even a stray stale token
//! miss the new occupant. The socket's own `Arc` keeps its state alive for
//! the socket, so nothing here is ever freed under anyone's feet: the
//! deferral is about not aliasing a slot, the `Arc` about memory.

use std::sync::Arc;

use slab::Slab;

use crate::io::ready::Ready;
use crate::io::scheduled_io::ScheduledIo;
use crate::loom::Mutex;

/// Bits of a token that hold the slab index (the rest: the generation).
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Released entries that make the releasing thread nudge a parked reactor,
/// so their memory does not wait for the next I/O event.
pub(crate) const RELEASE_NUDGE: usize = 16;

/// Why a registration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The reactor shut down.
    Shutdown,
    /// Every index a token can name is taken.
    Full,
}

#[derive(Debug)]
struct Entry {
    io: Arc<ScheduledIo>,
    generation: usize,
}

#[derive(Debug, Default)]
struct Inner {
    slab: Slab<Entry>,
    /// Tokens released by their sockets, freed by the reactor's next turn.
    released: Vec<usize>,
    next_generation: usize,
    shutdown: bool,
}

/// The registration set; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Registrations {
    inner: Mutex<Inner>,
}

fn token(index: usize, generation: usize) -> usize {
    (generation << INDEX_BITS) | index
}

impl Registrations {
    /// A new, empty set.
    pub(crate) fn new() -> Registrations {
        Registrations::default()
    }

    /// Adds a registration starting with `initial` readiness; returns its
    /// token and its shared state.
    pub(crate) fn insert(&self, initial: Ready) -> Result<(usize, Arc<ScheduledIo>), Refused> {
        let mut inner = self.inner.lock();
        if inner.shutdown {
            return Err(Refused::Shutdown);
        }
        let entry = inner.slab.vacant_entry();
        let index = entry.key();
        // The two highest indexes are never used, so no token equals
        // `usize::MAX` (the reactor's own wake token) or `usize::MAX - 1`
        // (the signal pipe's).
        if index >= INDEX_MASK - 1 {
            return Err(Refused::Full);
        }
        let generation = inner.next_generation;
        let io = Arc::new(ScheduledIo::new(initial));
        inner.slab.insert(Entry {
            io: io.clone(),
            generation,
        });
        inner.next_generation = (generation + 1) & (usize::MAX >> INDEX_BITS);
        Ok((token(index, generation), io))
    }

    /// The registration `token` names, if it is still in the set.
    pub(crate) fn get(&self, token: usize) -> Option<Arc<ScheduledIo>> {
        let inner = self.inner.lock();
        let entry = inner.slab.get(token & INDEX_MASK)?;
        (entry.generation == token >> INDEX_BITS).then(|| entry.io.clone())
    }

    /// A socket is done with `token` (its fd was deregistered). Returns
    /// whether the releaser should nudge the reactor to free the backlog.
    pub(crate) fn release(&self, token: usize) -> bool {
        let mut inner = self.inner.lock();
        if inner.shutdown {
            return false; // shutdown already dropped every entry
        }
        inner.released.push(token);
        inner.released.len() == RELEASE_NUDGE
    }

    /// Removes a registration that never reached epoll (its `register`
    /// failed), so no event can name it.
    pub(crate) fn remove_unregistered(&self, token: usize) {
        let mut inner = self.inner.lock();
        if inner.get_entry(token) {
            inner.slab.remove(token & INDEX_MASK);
        }
    }

    /// The reactor, between two batches of events: frees every released
    /// registration. The `Arc`s are dropped after the lock is released.
    pub(crate) fn free_released(&self) {
        let freed: Vec<Entry> = {
            let mut inner = self.inner.lock();
            if inner.released.is_empty() {
                return;
            }
            let Inner { slab, released, .. } = &mut *inner;
            released
                .drain(..)
                .filter_map(|token| {
                    let index = token & INDEX_MASK;
                    let live = slab
                        .get(index)
                        .is_some_and(|e| e.generation == token >> INDEX_BITS);
                    live.then(|| slab.remove(index))
                })
                .collect()
        };
        drop(freed);
    }

    /// Shutdown: refuses new registrations and hands back every current
    /// one, for the reactor to mark shut down and wake.
    pub(crate) fn shutdown(&self) -> Vec<Arc<ScheduledIo>> {
        let mut inner = self.inner.lock();
        inner.shutdown = true;
        inner.released.clear();
        inner.slab.drain().map(|e| e.io).collect()
    }

    /// Whether shutdown happened.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.inner.lock().shutdown
    }

    /// Registrations in the set, released ones included.
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().slab.len()
    }
}

impl Inner {
    fn get_entry(&self, token: usize) -> bool {
        self.slab
            .get(token & INDEX_MASK)
            .is_some_and(|e| e.generation == token >> INDEX_BITS)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_released_slot_is_freed_by_the_reactor_and_a_stale_token_misses() {
        let set = Registrations::new();
        let (old, io) = set.insert(Ready::EMPTY).unwrap();
        set.release(old);
        assert!(
            set.get(old).is_some(),
            "still there until the reactor frees it"
        );
        set.free_released();
        assert!(set.get(old).is_none());
        let (new, _) = set.insert(Ready::EMPTY).unwrap();
        assert_eq!(new & INDEX_MASK, old & INDEX_MASK, "slot reused");
        assert!(set.get(old).is_none(), "the old generation misses");
        assert!(set.get(new).is_some());
        drop(io); // the socket's reference was valid all along
    }

    #[test]
    fn shutdown_drains_and_refuses() {
        let set = Registrations::new();
        let (_, _io) = set.insert(Ready::EMPTY).unwrap();
        assert_eq!(set.shutdown().len(), 1);
        assert_eq!(set.insert(Ready::EMPTY).unwrap_err(), Refused::Shutdown);
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn many_releases_ask_for_a_nudge_once() {
        let set = Registrations::new();
        let nudges = (0..RELEASE_NUDGE * 2)
            .map(|_| set.insert(Ready::EMPTY).unwrap().0)
            .collect::<Vec<_>>()
            .into_iter()
            .filter(|&t| set.release(t))
            .count();
        assert_eq!(nudges, 1);
    }
}
