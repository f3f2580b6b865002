//! The state every handle of one broadcast channel shares: a ring of
//! `capacity` slots (a power of two) under one `Mutex`, the handle counts,
//! and the waiters of `recv` and of `Sender::closed`.
//!
//! Positions count every value ever sent (`u64`, never wraps in practice);
//! value `p` lives in slot `p & mask` until value `p + capacity`
//! overwrites it. Each slot remembers how many receivers subscribed at
//! send time have not taken it yet (`unseen`); the last one takes the value
//! out by move (no clone), and a receiver that is dropped counts itself off
//! every value it had not taken, so a value is dropped as soon as every
//! receiver that could see it has, or when it is overwritten.
//!
//! A receiver at position `next` reads value `next` if `next` is still in
//! the ring (`next >= tail - capacity`); if not, it missed
//! `tail - capacity - next` values and jumps to the oldest one kept, which
//! is tokio's `Lagged(n)`. Values dropped while the lock is held would run
//! user code under it, so they are handed back to be dropped after it is
//! released.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::error::{SendError, TryRecvError};
use crate::loom::Mutex;
use crate::sync::waiters::{Status, WaitList, Wakers};

pub(super) struct Shared<T> {
    pub(super) inner: Mutex<Inner<T>>,
    mask: u64,
}

pub(super) struct Inner<T> {
    slots: Box<[Slot<T>]>,
    /// Position of the next value sent.
    tail: u64,
    /// Slots holding a value (`Sender::len`).
    queued: usize,
    receivers: usize,
    senders: usize,
    /// `WeakSender`s: they keep no channel open.
    weak_senders: usize,
    /// Every sender was dropped.
    pub(super) closed: bool,
    /// Futures of `Receiver::recv`.
    pub(super) recv_waiters: WaitList<()>,
    /// Futures of `Sender::closed`.
    closed_waiters: WaitList<()>,
}

struct Slot<T> {
    /// The position of the value here (meaningless while `value` is `None`).
    pos: u64,
    /// Receivers that have not taken the value yet.
    unseen: usize,
    value: Option<T>,
}

impl<T> Shared<T> {
    /// A channel keeping the last `capacity` values, with one sender and
    /// `receivers` receivers (0 or 1). `capacity` is a power of two.
    pub(super) fn new(capacity: usize, receivers: usize) -> Shared<T> {
        debug_assert!(capacity.is_power_of_two());
        let slots = (0..capacity)
            .map(|_| Slot {
                pos: 0,
                unseen: 0,
                value: None,
            })
            .collect();
        Shared {
            inner: Mutex::new(Inner {
                slots,
                tail: 0,
                queued: 0,
                receivers,
                senders: 1,
                weak_senders: 0,
                closed: false,
                recv_waiters: WaitList::new(),
                closed_waiters: WaitList::new(),
            }),
            mask: capacity as u64 - 1,
        }
    }

    fn capacity(&self) -> u64 {
        self.mask + 1
    }

    // ---- senders -------------------------------------------------------------

    /// Stores `value` for every current receiver and wakes the waiting ones;
    /// returns how many receivers will see it.
    pub(super) fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wakers = Wakers::new();
        let mut inner = self.inner.lock();
        if inner.receivers == 0 {
            return Err(SendError(value));
        }
        let pos = inner.tail;
        let receivers = inner.receivers;
        let slot = &mut inner.slots[(pos & self.mask) as usize];
        let overwritten = slot.value.replace(value);
        slot.pos = pos;
        slot.unseen = receivers;
        if overwritten.is_none() {
            inner.queued += 1;
        }
        inner.tail = pos + 1;
        inner.recv_waiters.grant_all(&mut wakers);
        drop(inner);
        drop(overwritten);
        wakers.wake_all();
        Ok(receivers)
    }

    pub(super) fn add_sender(&self) {
        self.inner.lock().senders += 1;
    }

    /// A sender is gone; the last one closes the channel for receivers.
    pub(super) fn drop_sender(&self) {
        let mut wakers = Wakers::new();
        let mut inner = self.inner.lock();
        inner.senders -= 1;
        if inner.senders == 0 {
            inner.closed = true;
            inner.recv_waiters.grant_all(&mut wakers);
        }
        drop(inner);
        wakers.wake_all();
    }

    /// A weak sender is made (from a live sender, so the channel is open).
    pub(super) fn add_weak_sender(&self) {
        self.inner.lock().weak_senders += 1;
    }

    pub(super) fn drop_weak_sender(&self) {
        self.inner.lock().weak_senders -= 1;
    }

    /// Counts one more sender if any is left: `false` once the last was
    /// dropped (the channel stays closed; a weak sender cannot reopen it).
    pub(super) fn upgrade(&self) -> bool {
        let mut inner = self.inner.lock();
        if inner.senders == 0 {
            return false;
        }
        inner.senders += 1;
        true
    }

    /// Senders and weak senders alive.
    pub(super) fn sender_counts(&self) -> (usize, usize) {
        let inner = self.inner.lock();
        (inner.senders, inner.weak_senders)
    }

    /// Values not yet taken by every receiver that could see them.
    pub(super) fn len(&self) -> usize {
        self.inner.lock().queued
    }

    pub(super) fn receiver_count(&self) -> usize {
        self.inner.lock().receivers
    }

    /// Future of `Sender::closed`.
    pub(super) fn closed(&self) -> Closed<'_, T> {
        Closed {
            shared: self,
            key: None,
        }
    }

    // ---- receivers -----------------------------------------------------------

    /// A new receiver's position: the tail (it sees only later values).
    pub(super) fn subscribe(&self) -> u64 {
        let mut inner = self.inner.lock();
        inner.receivers += 1;
        inner.tail
    }

    /// The receiver at `next` is gone: it counts itself off every value it
    /// had not taken; the last receiver wakes `Sender::closed`.
    pub(super) fn drop_receiver(&self, next: u64) {
        let mut wakers = Wakers::new();
        let mut released = Vec::new();
        let mut inner = self.inner.lock();
        let oldest = inner.tail.saturating_sub(self.capacity());
        for pos in next.max(oldest)..inner.tail {
            if let Some(value) = inner.take_unseen(pos, self.mask) {
                released.push(value);
            }
        }
        inner.receivers -= 1;
        if inner.receivers == 0 {
            inner.closed_waiters.grant_all(&mut wakers);
        }
        drop(inner);
        drop(released);
        wakers.wake_all();
    }

    /// Takes value `*next` for a receiver (a clone, or the value itself for
    /// the last receiver to take it) and advances `next`; or says why not.
    pub(super) fn try_take(&self, inner: &mut Inner<T>, next: &mut u64) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        if *next >= inner.tail {
            return Err(if inner.closed {
                TryRecvError::Closed
            } else {
                TryRecvError::Empty
            });
        }
        let oldest = inner.tail.saturating_sub(self.capacity());
        if *next < oldest {
            let missed = oldest - *next;
            *next = oldest;
            return Err(TryRecvError::Lagged(missed));
        }
        let slot = &mut inner.slots[(*next & self.mask) as usize];
        debug_assert_eq!(slot.pos, *next, "a value in the ring has its slot");
        // Clone before anything changes: a panicking `clone` takes nothing.
        let value = if slot.unseen == 1 {
            inner.queued -= 1;
            slot.value.take()
        } else {
            slot.value.clone()
        };
        slot.unseen -= 1;
        *next += 1;
        Ok(value.expect("an untaken value is stored"))
    }

    /// Values sent that the receiver at `next` has not taken (more than the
    /// capacity if it lagged).
    pub(super) fn pending_for(&self, next: u64) -> usize {
        let tail = self.inner.lock().tail;
        usize::try_from(tail.saturating_sub(next)).unwrap_or(usize::MAX)
    }
}

impl<T> Inner<T> {
    /// Counts one receiver off value `pos`; returns the value if that was
    /// the last one.
    fn take_unseen(&mut self, pos: u64, mask: u64) -> Option<T> {
        let slot = &mut self.slots[(pos & mask) as usize];
        if slot.pos != pos || slot.value.is_none() {
            return None;
        }
        slot.unseen -= 1;
        if slot.unseen > 0 {
            return None;
        }
        self.queued -= 1;
        slot.value.take()
    }
}

/// Future of `Sender::closed`: ready once no receiver is left.
pub(super) struct Closed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<usize>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut inner = this.shared.inner.lock();
        if let Some(key) = this.key.take() {
            if inner.closed_waiters.poll(key, cx.waker()) == Status::Queued {
                this.key = Some(key);
                return Poll::Pending;
            }
            // Woken by the last receiver's drop (a later `subscribe` may
            // have reopened the channel since).
            inner.closed_waiters.remove(key);
            return Poll::Ready(());
        }
        if inner.receivers == 0 {
            return Poll::Ready(());
        }
        this.key = Some(inner.closed_waiters.push_back((), Some(cx.waker().clone())));
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.inner.lock().closed_waiters.remove(key);
        }
    }
}
