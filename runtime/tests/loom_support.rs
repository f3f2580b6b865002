//! What the `loom_*` model files share: a waker that counts its wakes (a
//! loom atomic, so the count is part of the model) and polling a future
//! once by hand. Compiled under `cfg(all(test, loom))` only.

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
