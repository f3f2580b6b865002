//! The state both channel kinds share: a queue under a `parking_lot`
//! mutex, the receiver's waker, the closed flags, the waiters of
//! `Sender::closed`, and — bounded only — a FIFO [`RawSemaphore`] with one
//! permit per free slot, so blocked senders are served in order and a
//! dropped `send` future passes its slot on.
//!
//! The receiving side ([`Rx`]) takes messages out in batches; see there.
//!
//! Closing rules (tokio's): the channel closes for senders when the
//! receiver calls `close` or is dropped; messages already queued can still
//! be received after `close` (they are dropped with the receiver). The
//! receiver sees the end (`None`) once the queue is empty and either every
//! sender is gone or it closed the channel itself.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use super::error::{SendError, TryRecvError, TrySendError};
use crate::loom::{AtomicUsize, Mutex};
use crate::sync::raw_semaphore::{RawSemaphore, TryAcquire};
use crate::sync::waiters::{Status, WaitList, Wakers};

pub(super) struct Chan<T> {
    queue: Mutex<Queue<T>>,
    /// Bounded channels: one permit per free slot.
    slots: Option<RawSemaphore>,
    capacity: usize,
    senders: AtomicUsize,
}

struct Queue<T> {
    items: VecDeque<T>,
    rx_waker: Option<Waker>,
    /// The receiver closed the channel or was dropped.
    rx_closed: bool,
    /// Every sender was dropped.
    tx_gone: bool,
    /// Futures of `Sender::closed`.
    closed_waiters: WaitList<()>,
}

impl<T> Chan<T> {
    /// A channel with room for `capacity` messages, or unbounded.
    pub(super) fn new(capacity: Option<usize>) -> Chan<T> {
        Chan {
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                rx_waker: None,
                rx_closed: false,
                tx_gone: false,
                closed_waiters: WaitList::new(),
            }),
            slots: capacity.map(RawSemaphore::new),
            capacity: capacity.unwrap_or(usize::MAX),
            senders: AtomicUsize::new(1),
        }
    }

    // ---- senders --------------------------------------------------------

    pub(super) fn add_sender(&self) {
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn drop_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let waker = {
            let mut queue = self.queue.lock();
            queue.tx_gone = true;
            queue.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Queues `value` (a slot, if bounded, is already held).
    pub(super) fn push(&self, value: T) -> Result<(), SendError<T>> {
        let waker = {
            let mut queue = self.queue.lock();
            if queue.rx_closed {
                drop(queue);
                self.release_slots(1);
                return Err(SendError(value));
            }
            queue.items.push_back(value);
            queue.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Waits for a slot (bounded) and queues `value`.
    pub(super) async fn send(&self, value: T) -> Result<(), SendError<T>> {
        if let Some(slots) = &self.slots {
            if slots.acquire(1).await.is_err() {
                return Err(SendError(value));
            }
        }
        self.push(value)
    }

    pub(super) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        if let Some(slots) = &self.slots {
            match slots.try_acquire(1) {
                Ok(()) => {}
                Err(TryAcquire::Closed) => return Err(TrySendError::Closed(value)),
                Err(TryAcquire::NoPermits) => return Err(TrySendError::Full(value)),
            }
        }
        self.push(value).map_err(TrySendError::from)
    }

    pub(super) fn is_closed(&self) -> bool {
        self.queue.lock().rx_closed
    }

    /// Free slots (bounded), as `Sender::capacity`.
    pub(super) fn free_slots(&self) -> usize {
        self.slots
            .as_ref()
            .map_or(usize::MAX, RawSemaphore::available)
    }

    pub(super) fn max_capacity(&self) -> usize {
        self.capacity
    }

    /// Future of `Sender::closed`.
    pub(super) fn closed(&self) -> Closed<'_, T> {
        Closed {
            chan: self,
            key: None,
        }
    }

    // ---- receiver -------------------------------------------------------

    pub(super) fn release_slots(&self, n: usize) {
        if let Some(slots) = &self.slots {
            slots.release(n);
        }
    }

    /// Closed as the receiver sees it: by `close`, or every sender gone.
    pub(super) fn is_closed_for_rx(&self) -> bool {
        let queue = self.queue.lock();
        queue.tx_gone || queue.rx_closed
    }

    /// Closes the channel for senders; queued messages stay receivable.
    pub(super) fn close(&self) {
        let mut wakers = Wakers::new();
        let mut queue = self.queue.lock();
        if queue.rx_closed {
            return;
        }
        queue.rx_closed = true;
        queue.closed_waiters.grant_all(&mut wakers);
        drop(queue);
        if let Some(slots) = &self.slots {
            slots.close();
        }
        wakers.wake_all();
    }

    /// The receiver is dropped: close, and drop what is queued.
    pub(super) fn drop_receiver(&self) {
        self.close();
        let items = std::mem::take(&mut self.queue.lock().items);
        drop(items);
    }
}

/// The receiving half both channel kinds wrap. Messages move from the
/// shared queue in batches: when its own `batch` is empty, the receiver
/// swaps it with the whole shared queue under the lock (O(1)), then serves
/// the following `recv`s without locking. Producers and consumer thus meet
/// on the lock once per batch, not once per message. A slot (bounded) is
/// freed as each message is handed out, so capacity is still counted per
/// message; messages in `batch` belong to the receiver and drop with it.
pub(super) struct Rx<T> {
    chan: Arc<Chan<T>>,
    batch: VecDeque<T>,
}

impl<T> Rx<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Rx<T> {
        Rx {
            chan,
            batch: VecDeque::new(),
        }
    }

    /// Refills `batch` from the shared queue if it is empty; returns
    /// whether the channel has ended (empty, and closed or sender-less).
    /// Registers `waker` when it is empty but open.
    fn refill(&mut self, waker: Option<&Waker>) -> bool {
        if !self.batch.is_empty() {
            return false;
        }
        let mut queue = self.chan.queue.lock();
        if !queue.items.is_empty() {
            std::mem::swap(&mut queue.items, &mut self.batch);
            return false;
        }
        if queue.tx_gone || queue.rx_closed {
            return true;
        }
        if let Some(waker) = waker {
            register(&mut queue.rx_waker, waker);
        }
        false
    }

    fn take(&mut self) -> Option<T> {
        let value = self.batch.pop_front()?;
        self.chan.release_slots(1);
        Some(value)
    }

    pub(super) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if self.refill(Some(cx.waker())) {
            return Poll::Ready(None);
        }
        match self.take() {
            Some(value) => Poll::Ready(Some(value)),
            None => Poll::Pending,
        }
    }

    pub(super) fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if self.refill(None) {
            return Err(TryRecvError::Disconnected);
        }
        self.take().ok_or(TryRecvError::Empty)
    }

    /// Moves up to `limit` messages into `buffer`, waiting for at least
    /// one; `0` means the channel ended (or `limit` was 0).
    pub(super) fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        if self.refill(Some(cx.waker())) {
            return Poll::Ready(0);
        }
        let n = self.batch.len().min(limit);
        if n == 0 {
            return Poll::Pending;
        }
        buffer.extend(self.batch.drain(..n));
        self.chan.release_slots(n);
        Poll::Ready(n)
    }

    /// Messages waiting to be received.
    pub(super) fn len(&self) -> usize {
        self.batch.len() + self.chan.queue.lock().items.len()
    }

    pub(super) fn chan(&self) -> &Chan<T> {
        &self.chan
    }
}

impl<T> Drop for Rx<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

/// Stores `waker` unless the stored one already wakes the same task.
fn register(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(old) if old.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

/// Future of `Sender::closed`: ready once the receiver closed or dropped.
pub(super) struct Closed<'a, T> {
    chan: &'a Chan<T>,
    key: Option<usize>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut queue = this.chan.queue.lock();
        let key = match this.key {
            Some(key) => key,
            None if queue.rx_closed => return Poll::Ready(()),
            None => *this.key.insert(queue.closed_waiters.push_back((), None)),
        };
        match queue.closed_waiters.poll(key, cx.waker()) {
            Status::Queued => Poll::Pending,
            Status::Granted | Status::Closed => {
                this.key = None;
                queue.closed_waiters.remove(key);
                Poll::Ready(())
            }
        }
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.queue.lock().closed_waiters.remove(key);
        }
    }
}
