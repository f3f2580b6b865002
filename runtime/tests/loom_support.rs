//! What the loom models of the tokio-parity primitives share: polling a
//! future by hand, a waker that counts its wakes, and a cell whose
//! accesses loom tracks (a read racing a write, not ordered by the lock
//! under test, fails the model). Compiled as a library module under
//! `cfg(all(test, loom))`, like the models.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::AtomicUsize;

/// Polls `fut` once with a waker that does nothing.
pub(crate) fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// A waker that counts how often it was woken.
pub(crate) struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

impl Count {
    /// A fresh counter and a waker that bumps it.
    pub(crate) fn waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    /// Wakes so far.
    pub(crate) fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// Polls `fut` once with `waker`.
pub(crate) fn poll_with<F: Future + ?Sized>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// A value loom tracks every access to: the data behind a lock under test.
#[derive(Debug)]
pub(crate) struct Tracked(loom::cell::UnsafeCell<usize>);

// SAFETY: the models reach a `Tracked` only through the guards of the lock
// under test; whether those accesses are ordered is exactly what loom checks
// (an unordered read and write makes it fail the model, never race for real:
// loom runs one thread at a time).
unsafe impl Sync for Tracked {}

impl Tracked {
    pub(crate) fn new(value: usize) -> Tracked {
        Tracked(loom::cell::UnsafeCell::new(value))
    }

    pub(crate) fn get(&self) -> usize {
        // SAFETY: see the `Sync` impl: loom checks the access is ordered.
        self.0.with(|p| unsafe { *p })
    }

    pub(crate) fn set(&self, value: usize) {
        // SAFETY: as in `get`.
        self.0.with_mut(|p| unsafe { *p = value })
    }
}
