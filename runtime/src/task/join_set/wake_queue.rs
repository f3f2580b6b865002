//! Which of a [`JoinSet`](super::JoinSet)'s tasks have news: one waker per
//! entry that, when a task finishes (or wakes its join handle for any
//! reason), puts that entry on a shared queue and wakes whoever waits in
//! `join_next`.
//!
//! An entry's waker is identified by its `Arc`, not by its slab key, so a
//! stale wake from a removed entry whose key was reused is recognised and
//! skipped (it costs one look, never a wrong poll).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::task::{Wake, Waker};

use crate::loom::{AtomicBool, Mutex};

/// What the set's entry wakers share with the set.
#[derive(Default)]
pub(super) struct Shared {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Entries woken since the set last looked, in wake order.
    woken: Vec<Arc<EntryWaker>>,
    /// The task waiting in `join_next`, if any.
    waiter: Option<Waker>,
}

/// The waker one entry's join handle is polled with.
pub(super) struct EntryWaker {
    /// The entry's slab key in the set.
    pub(super) key: usize,
    /// Set while the entry is on `woken` (or about to be), so a task that
    /// wakes its handle many times is queued once.
    queued: AtomicBool,
    /// Weak: the set owns `Shared`, and `Shared` holds woken entry wakers,
    /// so a strong link would be a cycle kept alive by a detached task.
    shared: Weak<Shared>,
}

impl EntryWaker {
    /// A waker for entry `key`, already marked queued: the set puts it on
    /// its own list of entries to poll, so the first poll registers it.
    pub(super) fn new(key: usize, shared: &Arc<Shared>) -> Arc<EntryWaker> {
        Arc::new(EntryWaker {
            key,
            queued: AtomicBool::new(true),
            shared: Arc::downgrade(shared),
        })
    }

    /// Clears the queued mark before the entry is polled, so a wake that
    /// arrives during or after the poll queues it again.
    pub(super) fn clear(&self) {
        self.queued.store(false, Ordering::SeqCst);
    }
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::SeqCst) {
            return;
        }
        let Some(shared) = self.shared.upgrade() else {
            return; // the set is gone
        };
        let waiter = {
            let mut inner = shared.inner.lock();
            inner.woken.push(self.clone());
            inner.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

impl Shared {
    /// Moves every woken entry to the back of `out`, oldest first, or
    /// registers `waiter` if there is none. Returns whether `out` got any.
    pub(super) fn take_woken(&self, out: &mut VecDeque<Arc<EntryWaker>>, waiter: &Waker) -> bool {
        let mut inner = self.inner.lock();
        if inner.woken.is_empty() {
            if !inner.waiter.as_ref().is_some_and(|w| w.will_wake(waiter)) {
                inner.waiter = Some(waiter.clone());
            }
            return false;
        }
        out.extend(inner.woken.drain(..));
        true
    }

    /// Forgets every queued wake and the waiter (the set is being emptied).
    pub(super) fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.woken.clear();
        inner.waiter = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn woken(shared: &Shared) -> Vec<usize> {
        let mut out = VecDeque::new();
        shared.take_woken(&mut out, Waker::noop());
        out.iter().map(|w| w.key).collect()
    }

    #[test]
    fn a_wake_while_marked_queues_nothing_and_a_wake_after_clear_queues_once() {
        let shared = Arc::new(Shared::default());
        let entry = EntryWaker::new(3, &shared);
        let waker = Waker::from(entry.clone());
        waker.wake_by_ref(); // still marked from `new`: the set has it
        assert!(woken(&shared).is_empty());
        entry.clear(); // the set is about to poll it
        waker.wake_by_ref();
        waker.wake_by_ref();
        assert_eq!(woken(&shared), [3], "queued once, not lost");
    }

    #[test]
    fn the_waiter_is_woken_by_the_first_wake_only() {
        use std::sync::atomic::AtomicUsize;
        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let shared = Arc::new(Shared::default());
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let mut out = VecDeque::new();
        assert!(!shared.take_woken(&mut out, &Waker::from(count.clone())));
        let (a, b) = (EntryWaker::new(0, &shared), EntryWaker::new(1, &shared));
        a.clear();
        b.clear();
        Waker::from(a).wake();
        Waker::from(b).wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(woken(&shared), [0, 1], "in wake order");
    }

    #[test]
    fn a_wake_after_the_set_is_gone_is_ignored() {
        let shared = Arc::new(Shared::default());
        let entry = EntryWaker::new(0, &shared);
        entry.clear();
        drop(shared);
        Waker::from(entry).wake(); // must not panic or leak
    }
}
