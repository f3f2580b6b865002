//! Runtime counters, one slot per worker plus one for other threads.
//!
//! A worker's slot has exactly one writer (the thread that owns that
//! worker's core), so it is bumped with a plain load and store: no locked
//! instruction on the spawn and poll hot paths. Threads that own no slot
//! (a multi-thread `block_on` thread, foreign threads) share the `remote`
//! slot and use atomic adds. Reads sum the slots with relaxed loads: exact
//! once the runtime is quiescent, approximate while tasks run.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Who is counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    /// The single owner of slot `index`.
    Owner(usize),
    /// Any other thread.
    Remote,
}

/// One slot of counters, padded to its own cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Slot {
    /// Spawned and queued without an eager poll; `spawned` is derived
    /// (this + eager completed + promoted), which saves the eager hot path
    /// a counter.
    pub(crate) spawned_lazy: AtomicU64,
    pub(crate) eager_completed: AtomicU64,
    pub(crate) promoted: AtomicU64,
    pub(crate) polls: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) parks: AtomicU64,
}

/// The counters of one scheduler.
#[derive(Debug)]
pub(crate) struct Metrics {
    slots: Box<[Slot]>,
    remote: Slot,
}

impl Metrics {
    pub(crate) fn new(workers: usize) -> Metrics {
        Metrics {
            slots: (0..workers).map(|_| Slot::default()).collect(),
            remote: Slot::default(),
        }
    }

    /// Adds one to the counter `which` picks, in `writer`'s slot.
    #[inline]
    pub(crate) fn inc(&self, writer: Writer, which: impl FnOnce(&Slot) -> &AtomicU64) {
        match writer {
            Writer::Owner(index) => {
                let counter = which(&self.slots[index]);
                // Single writer (see the module docs): no RMW needed.
                counter.store(counter.load(Relaxed) + 1, Relaxed);
            }
            Writer::Remote => {
                which(&self.remote).fetch_add(1, Relaxed);
            }
        }
    }

    pub(crate) fn snapshot(&self, live_tasks: usize) -> MetricsSnapshot {
        let sum = |f: fn(&Slot) -> &AtomicU64| -> u64 {
            self.slots
                .iter()
                .chain(std::iter::once(&self.remote))
                .map(|s| f(s).load(Relaxed))
                .sum()
        };
        MetricsSnapshot {
            spawned: sum(|s| &s.spawned_lazy) + sum(|s| &s.eager_completed) + sum(|s| &s.promoted),
            eager_completed: sum(|s| &s.eager_completed),
            promoted: sum(|s| &s.promoted),
            polls: sum(|s| &s.polls),
            steals: sum(|s| &s.steals),
            parks: sum(|s| &s.parks),
            live_tasks,
        }
    }
}

/// A copy of a scheduler's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Tasks spawned (eager and lazy).
    pub spawned: u64,
    /// Tasks that finished during their eager first poll: never queued.
    pub eager_completed: u64,
    /// Tasks promoted after their eager poll returned `Pending`.
    pub promoted: u64,
    /// Polls run by the scheduler from its queues (eager polls excluded).
    pub polls: u64,
    /// Times a worker took work from a sibling's queue.
    pub steals: u64,
    /// Times a worker parked for lack of work.
    pub parks: u64,
    /// Unfinished tasks in the owned-task list: spawned lazily, or promoted
    /// and gone idle at least once (a task queued straight from its eager
    /// step joins when it first waits).
    pub live_tasks: usize,
}
