//! The state every handle of one broadcast channel shares: a ring of
//! `capacity` slots (a power of two), each under its own `Mutex`, and one
//! `Mutex` over the rest (handle counts, the waiters of `recv` and of
//! `Sender::closed`).
//!
//! Positions count every value ever sent (`u64`, never wraps in practice);
//! value `p` lives in slot `p & mask` until value `p + capacity`
//! overwrites it. Each slot remembers how many receivers subscribed at
//! send time have not taken it yet (`unseen`); the last one takes the value
//! out by move (no clone), and a receiver that is dropped counts itself off
//! every value it had not taken, so a value is dropped as soon as every
//! receiver that could see it has, or when it is overwritten.
//!
//! # Locks
//!
//! `send` locks the state, then the slot it writes, and advances `tail`
//! before it unlocks the state. A receiver at position `next` first locks
//! only slot `next & mask`: if that slot holds value `next`, it takes it
//! and is done without touching the state lock, so receivers catching up
//! contend only with whoever uses the same slot. Otherwise (nothing sent
//! there yet, overwritten, or closed) it drops the slot, locks the state
//! and then the slot (always state before slot, never the other way), and
//! decides exactly: `Empty` (queue as a waiter), `Closed`, or `Lagged` —
//! it missed `tail - capacity - next` values and jumps to the oldest one
//! kept, which is tokio's `Lagged(n)`.
//!
//! # Waiters
//!
//! A `recv` queues only while `next == tail` and the channel is open, and
//! every `send` (which advances `tail`) and the last sender's drop (which
//! sets `closed`) remove *every* queued node in the same critical section.
//! So a woken `recv` knows its node is gone by reading the atomic mirrors
//! of `tail` and `closed` (written only under the state lock, read
//! without it), forgets its key without locking, and never touches that
//! key again (the slab may hand it to a later waiter). Only a `recv`
//! polled or dropped while still queued takes the state lock.
//!
//! Values dropped while a lock is held would run user code under it, so
//! they are handed back to be dropped after it is released. A `clone`
//! runs under its slot's lock (not the state's).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::task::{Context, Poll};

use super::error::{SendError, TryRecvError};
use crate::loom::{AtomicBool, AtomicU64, Mutex};
use crate::sync::waiters::{Status, WaitList, Wakers};

pub(super) struct Shared<T> {
    state: Mutex<State>,
    slots: Box<[Mutex<Slot<T>>]>,
    /// Position of the next value sent. Written only with `state` locked
    /// (in the same critical section that empties `recv_waiters`).
    tail: AtomicU64,
    /// Every sender was dropped. Written only with `state` locked.
    closed: AtomicBool,
    mask: u64,
}

struct State {
    receivers: usize,
    senders: usize,
    /// `WeakSender`s: they keep no channel open.
    weak_senders: usize,
    /// Futures of `Receiver::recv`, each waiting for value `tail`.
    recv_waiters: WaitList<()>,
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

impl<T> Slot<T> {
    /// Counts one receiver off the value here, which must be `Some`:
    /// returns a clone, or the value itself for the last receiver (a
    /// panicking `clone` changes nothing).
    fn take_one(&mut self) -> T
    where
        T: Clone,
    {
        let value = if self.unseen == 1 {
            self.value.take()
        } else {
            self.value.clone()
        };
        self.unseen -= 1;
        value.expect("an untaken value is stored")
    }

    /// Counts one receiver off value `pos` without taking it; returns the
    /// value if that was the last receiver.
    fn forget(&mut self, pos: u64) -> Option<T> {
        if self.pos != pos || self.value.is_none() {
            return None;
        }
        self.unseen -= 1;
        if self.unseen > 0 {
            return None;
        }
        self.value.take()
    }
}

impl<T> Shared<T> {
    /// A channel keeping the last `capacity` values, with one sender and
    /// `receivers` receivers (0 or 1). `capacity` is a power of two.
    pub(super) fn new(capacity: usize, receivers: usize) -> Shared<T> {
        debug_assert!(capacity.is_power_of_two());
        let slots = (0..capacity)
            .map(|_| {
                Mutex::new(Slot {
                    pos: 0,
                    unseen: 0,
                    value: None,
                })
            })
            .collect();
        Shared {
            state: Mutex::new(State {
                receivers,
                senders: 1,
                weak_senders: 0,
                recv_waiters: WaitList::new(),
                closed_waiters: WaitList::new(),
            }),
            slots,
            tail: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            mask: capacity as u64 - 1,
        }
    }

    fn capacity(&self) -> u64 {
        self.mask + 1
    }

    fn slot(&self, pos: u64) -> &Mutex<Slot<T>> {
        &self.slots[(pos & self.mask) as usize]
    }

    // ---- senders -------------------------------------------------------------

    /// Stores `value` for every current receiver and wakes the waiting ones;
    /// returns how many receivers will see it.
    pub(super) fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wakers = Wakers::new();
        let mut state = self.state.lock();
        if state.receivers == 0 {
            return Err(SendError(value));
        }
        let receivers = state.receivers;
        let pos = self.tail.load(Relaxed);
        let overwritten = {
            let mut slot = self.slot(pos).lock();
            slot.pos = pos;
            slot.unseen = receivers;
            slot.value.replace(value)
        };
        self.tail.store(pos + 1, Release);
        state.recv_waiters.take_all(&mut wakers);
        drop(state);
        drop(overwritten);
        wakers.wake_all();
        Ok(receivers)
    }

    pub(super) fn add_sender(&self) {
        self.state.lock().senders += 1;
    }

    /// A sender is gone; the last one closes the channel for receivers.
    pub(super) fn drop_sender(&self) {
        let mut wakers = Wakers::new();
        let mut state = self.state.lock();
        state.senders -= 1;
        if state.senders == 0 {
            self.closed.store(true, Release);
            state.recv_waiters.take_all(&mut wakers);
        }
        drop(state);
        wakers.wake_all();
    }

    /// A weak sender is made (from a live sender, so the channel is open).
    pub(super) fn add_weak_sender(&self) {
        self.state.lock().weak_senders += 1;
    }

    pub(super) fn drop_weak_sender(&self) {
        self.state.lock().weak_senders -= 1;
    }

    /// Counts one more sender if any is left: `false` once the last was
    /// dropped (the channel stays closed; a weak sender cannot reopen it).
    pub(super) fn upgrade(&self) -> bool {
        let mut state = self.state.lock();
        if state.senders == 0 {
            return false;
        }
        state.senders += 1;
        true
    }

    /// Senders and weak senders alive.
    pub(super) fn sender_counts(&self) -> (usize, usize) {
        let state = self.state.lock();
        (state.senders, state.weak_senders)
    }

    /// Values not yet taken by every receiver that could see them.
    ///
    /// Receivers take values in order, so among the positions still in
    /// the ring those taken by everyone (slot emptied) come first and the
    /// ones kept after them: a binary search over the slots finds the
    /// boundary (as tokio's `len` does), so `send` and `recv` keep no
    /// count for this.
    pub(super) fn len(&self) -> usize {
        let _no_send = self.state.lock();
        let tail = self.tail.load(Relaxed);
        let (mut low, mut high) = (tail.saturating_sub(self.capacity()), tail);
        while low < high {
            let mid = low + (high - low) / 2;
            if self.slot(mid).lock().value.is_some() {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        usize::try_from(tail - low).unwrap_or(usize::MAX)
    }

    pub(super) fn receiver_count(&self) -> usize {
        self.state.lock().receivers
    }

    /// Whether every sender is gone.
    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Acquire)
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
        let mut state = self.state.lock();
        state.receivers += 1;
        self.tail.load(Relaxed)
    }

    /// The receiver at `next` is gone: it counts itself off every value it
    /// had not taken; the last receiver wakes `Sender::closed`.
    pub(super) fn drop_receiver(&self, next: u64) {
        let mut wakers = Wakers::new();
        let mut released = Vec::new();
        let mut state = self.state.lock();
        let tail = self.tail.load(Relaxed);
        let oldest = tail.saturating_sub(self.capacity());
        for pos in next.max(oldest)..tail {
            if let Some(value) = self.slot(pos).lock().forget(pos) {
                released.push(value);
            }
        }
        state.receivers -= 1;
        if state.receivers == 0 {
            state.closed_waiters.grant_all(&mut wakers);
        }
        drop(state);
        drop(released);
        wakers.wake_all();
    }

    /// Takes value `*next` for a receiver (a clone, or the value itself for
    /// the last receiver to take it) and advances `next`; or says why not.
    pub(super) fn try_recv(&self, next: &mut u64) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        match self.take_if_there(next) {
            Some(value) => Ok(value),
            None => self.take_locked(&self.state.lock(), next),
        }
    }

    /// The lock-free-of-state fast path: takes value `*next` if its slot
    /// holds it.
    fn take_if_there(&self, next: &mut u64) -> Option<T>
    where
        T: Clone,
    {
        let mut slot = self.slot(*next).lock();
        if slot.value.is_none() || slot.pos != *next {
            return None;
        }
        let value = slot.take_one();
        drop(slot);
        *next += 1;
        Some(value)
    }

    /// Takes value `*next` or says exactly why not, with the state locked
    /// (so no send runs meanwhile).
    fn take_locked(&self, _state: &State, next: &mut u64) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        let tail = self.tail.load(Relaxed);
        if *next >= tail {
            return Err(if self.closed.load(Relaxed) {
                TryRecvError::Closed
            } else {
                TryRecvError::Empty
            });
        }
        let oldest = tail.saturating_sub(self.capacity());
        if *next < oldest {
            let missed = oldest - *next;
            *next = oldest;
            return Err(TryRecvError::Lagged(missed));
        }
        // In the ring and not taken by this receiver: its slot holds it.
        Ok(self
            .take_if_there(next)
            .expect("a value in the ring has its slot"))
    }

    /// Whether the `recv` of a receiver at `next` that queued a node is no
    /// longer queued: a send or the last sender's drop removed it.
    fn waiter_released(&self, next: u64) -> bool {
        self.tail.load(Acquire) > next || self.closed.load(Acquire)
    }

    /// One poll of `Receiver::recv` for the receiver at `*next`; `key` is
    /// its node in `recv_waiters` while it is queued.
    pub(super) fn poll_recv(
        &self,
        next: &mut u64,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, TryRecvError>>
    where
        T: Clone,
    {
        if let Some(k) = *key {
            if !self.waiter_released(*next) {
                let mut state = self.state.lock();
                if !self.waiter_released(*next) {
                    let status = state.recv_waiters.poll(k, cx.waker());
                    debug_assert_eq!(status, Status::Queued);
                    return Poll::Pending;
                }
            }
            // The node was removed by whoever released it.
            *key = None;
        }
        if let Some(value) = self.take_if_there(next) {
            return Poll::Ready(Ok(value));
        }
        let mut state = self.state.lock();
        match self.take_locked(&state, next) {
            Err(TryRecvError::Empty) => {
                *key = Some(state.recv_waiters.push_back((), Some(cx.waker().clone())));
                Poll::Pending
            }
            out => Poll::Ready(out),
        }
    }

    /// A `recv` of the receiver at `next` is dropped: its node leaves the
    /// queue if it is still there.
    pub(super) fn cancel_recv(&self, next: u64, key: usize) {
        if self.waiter_released(next) {
            return;
        }
        let mut state = self.state.lock();
        if !self.waiter_released(next) {
            state.recv_waiters.remove(key);
        }
    }

    /// Values sent that the receiver at `next` has not taken (more than the
    /// capacity if it lagged).
    pub(super) fn pending_for(&self, next: u64) -> usize {
        let tail = self.tail.load(Acquire);
        usize::try_from(tail.saturating_sub(next)).unwrap_or(usize::MAX)
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
        let mut state = this.shared.state.lock();
        if let Some(key) = this.key.take() {
            if state.closed_waiters.poll(key, cx.waker()) == Status::Queued {
                this.key = Some(key);
                return Poll::Pending;
            }
            // Woken by the last receiver's drop (a later `subscribe` may
            // have reopened the channel since).
            state.closed_waiters.remove(key);
            return Poll::Ready(());
        }
        if state.receivers == 0 {
            return Poll::Ready(());
        }
        this.key = Some(state.closed_waiters.push_back((), Some(cx.waker().clone())));
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.state.lock().closed_waiters.remove(key);
        }
    }
}
