//! The state every handle of one watch channel shares, and the two waiting
//! futures built on it: [`Changed`] (a receiver waits for a version it has
//! not seen, or for the last sender to go) and [`Closed`] (a sender waits
//! for the last receiver to go).
//!
//! The *state word* holds the version, bumped by [`VERSION_STEP`] on every
//! send, and the [`CLOSED`] bit (every sender gone). A sender changes the
//! value and bumps the version while it holds the value's write lock, so a
//! reader that reads the word under the read lock sees the version of the
//! value it reads. Waiters sit in `WaitList`s under one `Mutex`; a sender
//! bumps the word *before* it takes that lock to wake them, and a waiter
//! reads the word again under the lock before it queues, so a send is
//! never missed. Every queued waiter is woken at once (`grant_all`): what a
//! waiter is handed is only "look again", so a dropped waiter owes nothing.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, SeqCst};
use std::task::{Context, Poll};

use super::error::RecvError;
use crate::loom::{AtomicUsize, Mutex, RwLock};
use crate::sync::waiters::{Status, WaitList, Wakers};

/// The state word's bit for "every sender was dropped".
pub(super) const CLOSED: usize = 1;
/// What one send adds to the state word (the version lives above bit 0).
pub(super) const VERSION_STEP: usize = 2;

/// The version part of a state word.
pub(super) fn version_of(state: usize) -> usize {
    state & !CLOSED
}

pub(super) struct Shared<T> {
    pub(super) value: RwLock<T>,
    /// Version and [`CLOSED`].
    state: AtomicUsize,
    receivers: AtomicUsize,
    senders: AtomicUsize,
    waiters: Mutex<Waiters>,
}

struct Waiters {
    /// Futures of `Receiver::changed` (and `wait_for`).
    changed: WaitList<()>,
    /// Futures of `Sender::closed`.
    closed: WaitList<()>,
}

impl<T> Shared<T> {
    /// A channel holding `init`, with one sender and one receiver.
    pub(super) fn new(init: T) -> Shared<T> {
        Shared {
            value: RwLock::new(init),
            state: AtomicUsize::new(0),
            receivers: AtomicUsize::new(1),
            senders: AtomicUsize::new(1),
            waiters: Mutex::new(Waiters {
                changed: WaitList::new(),
                closed: WaitList::new(),
            }),
        }
    }

    /// The state word.
    pub(super) fn state(&self) -> usize {
        self.state.load(SeqCst)
    }

    /// The current version.
    pub(super) fn version(&self) -> usize {
        version_of(self.state())
    }

    /// Bumps the version. Call with the value's write lock held, then
    /// [`notify_changed`](Self::notify_changed) once it is released.
    pub(super) fn bump_version(&self) {
        self.state.fetch_add(VERSION_STEP, SeqCst);
    }

    /// Wakes every waiting `changed`.
    pub(super) fn notify_changed(&self) {
        let mut wakers = Wakers::new();
        self.waiters.lock().changed.grant_all(&mut wakers);
        wakers.wake_all();
    }

    // ---- handle counts -----------------------------------------------------

    pub(super) fn receiver_count(&self) -> usize {
        self.receivers.load(Acquire)
    }

    pub(super) fn sender_count(&self) -> usize {
        self.senders.load(Acquire)
    }

    pub(super) fn add_receiver(&self) {
        self.receivers.fetch_add(1, AcqRel);
    }

    pub(super) fn add_sender(&self) {
        self.senders.fetch_add(1, AcqRel);
    }

    /// A receiver is gone; the last one wakes `Sender::closed`.
    pub(super) fn drop_receiver(&self) {
        if self.receivers.fetch_sub(1, AcqRel) == 1 {
            let mut wakers = Wakers::new();
            self.waiters.lock().closed.grant_all(&mut wakers);
            wakers.wake_all();
        }
    }

    /// A sender is gone; the last one closes the channel for receivers.
    pub(super) fn drop_sender(&self) {
        if self.senders.fetch_sub(1, AcqRel) == 1 {
            self.state.fetch_or(CLOSED, SeqCst);
            self.notify_changed();
        }
    }

    // ---- waiting -------------------------------------------------------------

    /// Future of `Receiver::changed`, updating `seen` when it completes.
    pub(super) fn changed<'a>(&'a self, seen: &'a mut usize) -> Changed<'a, T> {
        Changed {
            shared: self,
            seen,
            key: None,
        }
    }

    /// Future of `Sender::closed`.
    pub(super) fn closed(&self) -> Closed<'_, T> {
        Closed {
            shared: self,
            key: None,
        }
    }
}

/// Whether `state` holds a version other than `seen`, or the end.
fn has_news(state: usize, seen: usize) -> bool {
    version_of(state) != seen || state & CLOSED != 0
}

/// What a receiver that has seen version `seen` learns from `state`:
/// a new version (now seen), the end, or nothing yet.
fn outcome(state: usize, seen: &mut usize) -> Option<Result<(), RecvError>> {
    if version_of(state) != *seen {
        *seen = version_of(state);
        Some(Ok(()))
    } else if state & CLOSED != 0 {
        Some(Err(RecvError(())))
    } else {
        None
    }
}

/// Completes when the version differs from `seen` (then `seen` is set to
/// it), or with [`RecvError`] when every sender is gone and nothing new
/// came. Nothing is marked seen unless it completes, so dropping it is
/// safe.
pub(super) struct Changed<'a, T> {
    shared: &'a Shared<T>,
    seen: &'a mut usize,
    key: Option<usize>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            if let Some(out) = outcome(this.shared.state(), this.seen) {
                if let Some(key) = this.key.take() {
                    this.shared.waiters.lock().changed.remove(key);
                }
                return Poll::Ready(out);
            }
            let mut waiters = this.shared.waiters.lock();
            match this.key {
                Some(key) => match waiters.changed.poll(key, cx.waker()) {
                    // Not woken yet: a send that bumped the word has not
                    // reached the list; it will wake this node.
                    Status::Queued => return Poll::Pending,
                    Status::Granted | Status::Closed => {
                        waiters.changed.remove(key);
                        this.key = None;
                    }
                },
                None => {
                    // Under the lock: a send after this read wakes the node.
                    if !has_news(this.shared.state(), *this.seen) {
                        this.key = Some(waiters.changed.push_back((), Some(cx.waker().clone())));
                        return Poll::Pending;
                    }
                }
            }
        }
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.waiters.lock().changed.remove(key);
        }
    }
}

/// Completes once no receiver is left.
pub(super) struct Closed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<usize>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut waiters = this.shared.waiters.lock();
        if let Some(key) = this.key {
            if waiters.closed.poll(key, cx.waker()) == Status::Queued {
                return Poll::Pending;
            }
            // Woken by the last receiver's drop: the channel was closed,
            // even if a `subscribe` has reopened it since.
            waiters.closed.remove(key);
            this.key = None;
            return Poll::Ready(());
        }
        // Read under the lock: the last receiver's drop takes it after
        // its decrement, so it either is seen here or wakes the node.
        if this.shared.receiver_count() == 0 {
            return Poll::Ready(());
        }
        this.key = Some(waiters.closed.push_back((), Some(cx.waker().clone())));
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.waiters.lock().closed.remove(key);
        }
    }
}
