//! Task ids: unique per process, never reused, handed out in blocks per
//! thread so spawning does not contend on one global counter.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::context;

/// An opaque, process-unique identifier of a task.
///
/// The same id is seen by the task during its eager first poll, after it is
/// resumed on any worker, and on its [`JoinHandle`](crate::task::JoinHandle).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

const BLOCK: u64 = 1024;
static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);

impl Id {
    pub(crate) fn next() -> Id {
        // `ids` in the thread context: `(next, end)` of this thread's
        // reserved block.
        let raw = context::with(|c| {
            let (mut next, mut end) = c.ids.get();
            if next == end {
                next = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
                end = next + BLOCK;
            }
            c.ids.set((next + 1, end));
            next
        })
        // During thread teardown: take one id straight from the counter.
        .unwrap_or_else(|| NEXT_BLOCK.fetch_add(1, Ordering::Relaxed));
        Id(NonZeroU64::new(raw).expect("task ids start at 1 and never wrap"))
    }

    /// The id whose [`as_u64`](Self::as_u64) is `raw`.
    pub(crate) fn from_raw(raw: NonZeroU64) -> Id {
        Id(raw)
    }

    /// An id made from a number, for the loom models of other crates (they
    /// run no scheduler to hand ids out). Exists only under `cfg(loom)`.
    #[cfg(loom)]
    #[doc(hidden)]
    pub fn for_loom_model(raw: u64) -> Id {
        Id(NonZeroU64::new(raw).expect("task ids are nonzero"))
    }

    /// The id as a number, for logs and metrics.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn unique_across_threads() {
        let ids: Vec<Id> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..3000).map(|_| Id::next()).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let set: HashSet<Id> = ids.iter().copied().collect();
        assert_eq!(set.len(), ids.len());
    }
}
