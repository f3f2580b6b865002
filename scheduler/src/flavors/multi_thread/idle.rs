//! Idle-worker bookkeeping: who is parked, how many are searching for work.
//!
//! No lost wakeups: a scheduler pushes its task, then (after a `SeqCst`
//! fence) reads `num_idle`; a worker about to park first counts itself idle,
//! then (after a `SeqCst` fence) checks every queue once more. The two
//! fences order the two sides, so whichever runs second sees the other
//! (checked by `tests/loom_park.rs`). At most one parked worker is woken while another
//! is already searching, so a burst of spawns does not wake every thread.

use crate::loom::{AtomicUsize, Mutex, Ordering::SeqCst, fence};

#[derive(Debug)]
pub(crate) struct Idle {
    num_idle: AtomicUsize,
    num_searching: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            num_idle: AtomicUsize::new(0),
            num_searching: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
        }
    }

    /// A worker to wake for new work, if any is parked and none searches.
    /// The woken worker is counted as searching.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        fence(SeqCst);
        if self.num_searching.load(SeqCst) != 0 || self.num_idle.load(SeqCst) == 0 {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if self.num_searching.load(SeqCst) != 0 {
            return None;
        }
        let worker = sleepers.pop()?;
        self.num_idle.fetch_sub(1, SeqCst);
        self.num_searching.fetch_add(1, SeqCst);
        Some(worker)
    }

    /// Registers `worker` as parked. Call before the final queue check.
    pub(crate) fn park(&self, worker: usize, searching: bool) {
        let mut sleepers = self.sleepers.lock();
        if searching {
            self.num_searching.fetch_sub(1, SeqCst);
        }
        sleepers.push(worker);
        self.num_idle.fetch_add(1, SeqCst);
        drop(sleepers);
        // Pairs with the fence in `worker_to_notify`: the caller's final
        // queue check (plain crossbeam loads) must not move above this
        // registration. (The loom model found the interleaving without it.)
        fence(SeqCst);
    }

    /// `worker` woke up (or found work before parking). Returns whether it
    /// was woken by `worker_to_notify` (then it is counted as searching).
    pub(crate) fn unpark(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|&w| w == worker) {
            Some(pos) => {
                // Woke by itself (timeout, shutdown, spurious): not searching.
                sleepers.swap_remove(pos);
                self.num_idle.fetch_sub(1, SeqCst);
                false
            }
            None => true,
        }
    }

    /// A searching worker found work. Returns whether it was the last
    /// searcher (then it should wake another worker to keep work spreading).
    pub(crate) fn stop_searching(&self) -> bool {
        self.num_searching.fetch_sub(1, SeqCst) == 1
    }
}
