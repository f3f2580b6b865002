//! What the `loom_*` model files share: a waker that counts its wakes (a
//! loom atomic, so the count is part of the model), polling a future once
//! by hand, a drop counter, and a cell whose accesses loom tracks (a read
//! racing a write, not ordered by the lock under test, fails the model).
//! Compiled under `cfg(all(test, loom))` only.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// Counts the wakes of the waker made from it.
#[derive(Default)]
pub(crate) struct WakeCount(AtomicUsize);

impl WakeCount {
    /// How many times it was woken so far.
    pub(crate) fn get(&self) -> usize {
        self.0.load(SeqCst)
    }

    /// Whether it was woken at least once.
    pub(crate) fn woken(&self) -> bool {
        self.get() > 0
    }
}

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A fresh counter and the waker that counts into it.
pub(crate) fn counting_waker() -> (Arc<WakeCount>, Waker) {
    let count = Arc::new(WakeCount::default());
    (count.clone(), Waker::from(count))
}

/// Polls `fut` once with a waker that does nothing.
pub(crate) fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls `future` once with `waker`.
pub(crate) fn poll_with<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Counts drops of its clones: a value sent through a channel whose
/// drops are counted.
#[derive(Clone, Default)]
pub(crate) struct Dropped(Arc<AtomicUsize>);

impl Dropped {
    /// A value whose drop counts here.
    pub(crate) fn token(&self) -> Token {
        Token(self.0.clone())
    }

    /// Drops counted so far.
    pub(crate) fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// Increments its [`Dropped`] when dropped.
pub(crate) struct Token(Arc<AtomicUsize>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token")
    }
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
