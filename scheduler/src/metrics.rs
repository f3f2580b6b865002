//! Runtime counters. Relaxed atomics: each is exact once the runtime is
//! quiescent, and approximate while tasks run on other threads.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The live counters of one scheduler.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) spawned: AtomicU64,
    pub(crate) eager_completed: AtomicU64,
    pub(crate) promoted: AtomicU64,
    pub(crate) polls: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) parks: AtomicU64,
}

impl Metrics {
    #[inline]
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self, live_tasks: usize) -> MetricsSnapshot {
        MetricsSnapshot {
            spawned: self.spawned.load(Relaxed),
            eager_completed: self.eager_completed.load(Relaxed),
            promoted: self.promoted.load(Relaxed),
            polls: self.polls.load(Relaxed),
            steals: self.steals.load(Relaxed),
            parks: self.parks.load(Relaxed),
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
    /// Tasks taken from another worker's queue.
    pub steals: u64,
    /// Times a worker parked for lack of work.
    pub parks: u64,
    /// Promoted or queued tasks that have not finished yet.
    pub live_tasks: usize,
}
