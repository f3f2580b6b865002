//! [`RuntimeMetrics`]: the scheduler's counters plus the blocking pool's.

use keen_scheduler::MetricsSnapshot;

/// A copy of a runtime's counters, from [`Runtime::metrics`](crate::Runtime::metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Tasks spawned (eager and lazy; blocking closures excluded).
    pub spawned: u64,
    /// Tasks that finished during their eager first poll: never queued.
    pub eager_completed: u64,
    /// Tasks promoted after their eager poll returned `Pending`.
    pub promoted: u64,
    /// Polls run from the scheduler's queues (eager polls excluded).
    pub polls: u64,
    /// Tasks a worker took from a sibling's queue.
    pub steals: u64,
    /// Times a worker parked for lack of work.
    pub parks: u64,
    /// Tasks in the runtime's owned-task list: spawned lazily, or promoted
    /// and gone idle (waiting on a waker) at least once, and not finished.
    /// A task that woke itself in its eager step is counted only once it
    /// first waits (a child that yields and then completes never is). A
    /// task leaves the count before its join handle can see it finish, so
    /// once a handle resolved its task is not counted here.
    pub live_tasks: usize,
    /// Threads in the blocking pool right now.
    pub blocking_threads: usize,
    /// Timers in the runtime's wheel right now (sleeps and scope deadlines
    /// that are pending).
    pub timers: usize,
    /// Worker threads (1 on current-thread: the thread in `block_on`).
    workers: usize,
}

impl RuntimeMetrics {
    pub(crate) fn new(
        s: MetricsSnapshot,
        blocking_threads: usize,
        timers: usize,
        workers: usize,
    ) -> RuntimeMetrics {
        RuntimeMetrics {
            spawned: s.spawned,
            eager_completed: s.eager_completed,
            promoted: s.promoted,
            polls: s.polls,
            steals: s.steals,
            parks: s.parks,
            live_tasks: s.live_tasks,
            blocking_threads,
            timers,
            workers,
        }
    }

    /// Number of worker threads: `worker_threads` on multi-thread, 1 on
    /// current-thread (the thread inside `block_on`), as tokio's
    /// `RuntimeMetrics::num_workers`.
    ///
    /// ```
    /// let rt = keen::runtime::Builder::new_multi_thread().worker_threads(3).build().unwrap();
    /// assert_eq!(rt.metrics().num_workers(), 3);
    /// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
    /// assert_eq!(rt.metrics().num_workers(), 1);
    /// ```
    pub fn num_workers(&self) -> usize {
        self.workers
    }
}
