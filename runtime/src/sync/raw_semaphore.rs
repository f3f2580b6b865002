//! The fair permit counter under [`Semaphore`](super::Semaphore),
//! [`Mutex`](super::Mutex) and the bounded [`mpsc`](super::mpsc) channel.
//!
//! One `AtomicUsize` holds the free permits and two flags:
//!
//! ```text
//!  bits: [ permits ............ | CLOSED | WAITERS ]
//! ```
//!
//! - `WAITERS` is set exactly while the waiter queue is non-empty, and only
//!   with the queue's lock held. While it is set the fast path refuses to
//!   take permits, so nobody overtakes a queued waiter (FIFO, no barging).
//!   [`forget`](RawSemaphore::forget) is the one lock-free taker that
//!   ignores the flag (forgetting shrinks the semaphore, it does not
//!   overtake anyone), so no code may assume the free count only grows
//!   while the flag is set: every taker, `distribute` included, takes with a
//!   compare-exchange that re-checks the count it subtracts from.
//! - Releasing adds permits with one `fetch_add`; if `WAITERS` was set the
//!   releaser takes the lock and *hands* permits to the front waiters in
//!   queue order (`distribute`). A granted waiter owns its permits before
//!   it even runs; if it is dropped then, it gives them back and they go to
//!   the next waiter.
//! - `CLOSED` makes every acquire fail; closing fails all queued waiters.
//! - A queued waiter holds a *ticket*, numbered in queue order. Since
//!   permits are handed out in queue order, the tickets served so far are
//!   a prefix: `served` is the ticket of the last waiter granted, and a
//!   live waiter whose ticket is at most `served` has its permits. The
//!   grant removes the waiter's node from the queue at once
//!   ([`WaitList::take_front`]), so a woken waiter learns it was served
//!   from one atomic load, without the lock: under contention the lock is
//!   taken once per hand-off (by the releaser), not twice. The `Release`
//!   store of `served` after the grant and the waiter's `Acquire` load
//!   carry what the previous holder did to the waiter. Cancelled waiters
//!   leave gaps in the sequence; nobody asks about those tickets again.
//!
//! Lost wake-ups are impossible: a waiter sets `WAITERS` and then runs
//! `distribute` under the lock, so a release that added permits before the
//! flag was set is seen by that `distribute`, and one that came after sees
//! the flag and distributes itself (after waiting for the lock).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire as Load, Relaxed, Release};
use std::task::{Context, Poll};

use super::waiters::{Status, WaitList, Wakers};
use crate::loom::{AtomicU64, AtomicUsize, Mutex, const_fn_unless_loom};

const WAITERS: usize = 1;
const CLOSED: usize = 2;
const SHIFT: usize = 2;

/// Most permits a semaphore can hold (one spare high bit, so an add that
/// passes the check cannot wrap the word).
pub(crate) const MAX_PERMITS: usize = usize::MAX >> (SHIFT + 1);

/// Why a non-waiting acquire failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TryAcquire {
    /// The semaphore is closed.
    Closed,
    /// Not enough free permits, or waiters are queued first.
    NoPermits,
}

/// The semaphore was closed while waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// A FIFO semaphore with direct hand-off; see the module docs.
pub(crate) struct RawSemaphore {
    state: AtomicUsize,
    waiters: Mutex<WaitList<Waiter>>,
    /// The ticket the next queued waiter gets; changed only under the
    /// `waiters` lock (an atomic only to keep `RawSemaphore` `Sync`
    /// without a second cell type).
    next_ticket: AtomicU64,
    /// The ticket of the last waiter granted (0: none yet); stored under
    /// the lock, read without it. See the module docs.
    served: AtomicU64,
}

/// A queued acquire: the permits it waits for and its ticket.
#[derive(Debug, Clone, Copy)]
struct Waiter {
    need: usize,
    ticket: u64,
}

impl RawSemaphore {
    const_fn_unless_loom! {
        /// A semaphore with `permits` free permits.
        ///
        /// # Panics
        /// If `permits` exceeds [`MAX_PERMITS`].
        pub(crate) const fn new(permits: usize) -> RawSemaphore {
            assert!(
                permits <= MAX_PERMITS,
                "a semaphore holds at most MAX_PERMITS permits"
            );
            RawSemaphore {
                state: AtomicUsize::new(permits << SHIFT),
                waiters: Mutex::new(WaitList::new()),
                next_ticket: AtomicU64::new(1),
                served: AtomicU64::new(0),
            }
        }
    }

    /// Waits for `n` permits, in FIFO order with every other waiter.
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            state: AcquireState::new(n),
        }
    }

    /// Free permits now.
    pub(crate) fn available(&self) -> usize {
        self.state.load(Load) >> SHIFT
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Load) & CLOSED != 0
    }

    /// Takes `n` permits if they are free and nobody is queued.
    #[inline]
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquire> {
        let mut state = self.state.load(Load);
        loop {
            if state & CLOSED != 0 {
                return Err(TryAcquire::Closed);
            }
            if state & WAITERS != 0 || state >> SHIFT < n {
                return Err(TryAcquire::NoPermits);
            }
            match self
                .state
                .compare_exchange_weak(state, state - (n << SHIFT), AcqRel, Load)
            {
                Ok(_) => return Ok(()),
                Err(now) => state = now,
            }
        }
    }

    /// Returns `n` permits (from a dropped permit or `add_permits`) and
    /// hands them to queued waiters in order.
    ///
    /// # Panics
    /// If the total would exceed [`MAX_PERMITS`].
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        if n > MAX_PERMITS {
            too_many(n);
        }
        // Checked before adding: permits added past the limit and taken back
        // would be visible to a concurrent taker in between.
        let mut prev = self.state.load(Load);
        loop {
            if (prev >> SHIFT) + n > MAX_PERMITS {
                too_many(n);
            }
            match self
                .state
                .compare_exchange_weak(prev, prev + (n << SHIFT), AcqRel, Load)
            {
                Ok(_) => break,
                Err(now) => prev = now,
            }
        }
        if prev & WAITERS != 0 {
            self.release_to_waiters();
        }
    }

    /// The slow half of [`release`](Self::release): waiters are queued,
    /// hand them the permits in order.
    #[cold]
    #[inline(never)]
    fn release_to_waiters(&self) {
        let mut wakers = Wakers::new();
        self.distribute(&mut self.waiters.lock(), &mut wakers);
    }

    /// Takes up to `n` free permits out of circulation; returns how many.
    pub(crate) fn forget(&self, n: usize) -> usize {
        let mut state = self.state.load(Load);
        loop {
            let take = n.min(state >> SHIFT);
            match self
                .state
                .compare_exchange_weak(state, state - (take << SHIFT), AcqRel, Load)
            {
                Ok(_) => return take,
                Err(now) => state = now,
            }
        }
    }

    /// Fails every queued and future acquire. Permits still come back.
    pub(crate) fn close(&self) {
        let mut wakers = Wakers::new();
        let mut waiters = self.waiters.lock();
        self.state.fetch_or(CLOSED, AcqRel);
        waiters.close_all(&mut wakers);
        self.state.fetch_and(!WAITERS, AcqRel);
        drop(waiters);
        wakers.wake_all();
    }

    /// Hands free permits to the front waiters while they fit; keeps
    /// `WAITERS` equal to "queue non-empty". Called with the lock held.
    fn distribute(&self, waiters: &mut WaitList<Waiter>, wakers: &mut Wakers) {
        loop {
            let Some(&Waiter { need, ticket }) = waiters.front() else {
                self.state.fetch_and(!WAITERS, AcqRel);
                return;
            };
            if !self.take_free(need) {
                return;
            }
            waiters.take_front(wakers);
            self.served.store(ticket, Release);
        }
    }

    /// Whether the queued acquire with `ticket` has been granted (see the
    /// module docs; only meaningful while that acquire is still queued or
    /// granted, never after it was cancelled).
    #[inline]
    fn is_served(&self, ticket: u64) -> bool {
        self.served.load(Load) >= ticket
    }

    /// Takes `need` free permits for the front waiter if they are there.
    ///
    /// A compare-exchange, not a load then a `fetch_sub`: [`forget`]
    /// (Self::forget) takes free permits without the lock and whatever the
    /// `WAITERS` flag says, so the count may shrink between a read and the
    /// subtraction; a blind `fetch_sub` would then wrap the word.
    fn take_free(&self, need: usize) -> bool {
        let mut state = self.state.load(Load);
        loop {
            if state >> SHIFT < need {
                return false;
            }
            match self
                .state
                .compare_exchange_weak(state, state - (need << SHIFT), AcqRel, Load)
            {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    /// Polls a waiting acquire of `state.need` permits. The uncontended
    /// case (free permits, nobody queued) is inlined into the caller; the
    /// queue is out of line.
    #[inline]
    pub(crate) fn poll_acquire(
        &self,
        acquire: &mut AcquireState,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Closed>> {
        if acquire.key.is_none() {
            match self.try_acquire(acquire.need) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(TryAcquire::Closed) => return Poll::Ready(Err(Closed)),
                Err(TryAcquire::NoPermits) => {}
            }
        }
        self.poll_queued(acquire, cx)
    }

    /// The queue half of [`poll_acquire`](Self::poll_acquire).
    #[inline(never)]
    fn poll_queued(
        &self,
        acquire: &mut AcquireState,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Closed>> {
        // Woken by a grant: the permits are ours, the node is gone.
        if acquire.key.is_some() && self.is_served(acquire.ticket) {
            acquire.key = None;
            return Poll::Ready(Ok(()));
        }
        let mut wakers = Wakers::new();
        let mut waiters = self.waiters.lock();
        let status = match acquire.key {
            // Checked again under the lock, where grants happen: a grant
            // between the check above and the lock removed the node.
            Some(_) if self.is_served(acquire.ticket) => Status::Granted,
            Some(key) => waiters.poll(key, cx.waker()),
            None => {
                self.state.fetch_or(WAITERS, AcqRel);
                if self.is_closed() {
                    // `close` ran between the failed try and the lock.
                    if waiters.is_empty() {
                        self.state.fetch_and(!WAITERS, AcqRel);
                    }
                    return Poll::Ready(Err(Closed));
                }
                // Queue at the back; `distribute` grants this node at once
                // if it is first and the permits are free by now.
                let ticket = self.next_ticket.load(Relaxed);
                self.next_ticket.store(ticket + 1, Relaxed);
                let key = waiters.push_back(
                    Waiter {
                        need: acquire.need,
                        ticket,
                    },
                    None,
                );
                acquire.key = Some(key);
                acquire.ticket = ticket;
                self.distribute(&mut waiters, &mut wakers);
                if self.is_served(ticket) {
                    Status::Granted
                } else {
                    waiters.poll(key, cx.waker())
                }
            }
        };
        let key = acquire.key.take().expect("a queued acquire has a node");
        let out = match status {
            Status::Queued => {
                acquire.key = Some(key);
                return Poll::Pending;
            }
            // Granted nodes were removed by the grant.
            Status::Granted => Ok(()),
            Status::Closed => {
                waiters.remove(key);
                Err(Closed)
            }
        };
        drop(waiters);
        wakers.wake_all();
        Poll::Ready(out)
    }

    /// Withdraws a waiting acquire that will not be polled again: a queued
    /// node leaves the queue, and permits already handed to it go to the
    /// next waiter. A no-op if it never waited or already completed.
    #[inline]
    pub(crate) fn cancel_acquire(&self, acquire: &mut AcquireState) {
        if let Some(key) = acquire.key.take() {
            self.cancel_queued(key, acquire.ticket, acquire.need);
        }
    }

    /// The queue half of [`cancel_acquire`](Self::cancel_acquire).
    #[inline(never)]
    fn cancel_queued(&self, key: usize, ticket: u64, need: usize) {
        if self.is_served(ticket) {
            // Granted and not polled since: pass the permits on, as a
            // dropped permit would.
            self.release(need);
            return;
        }
        let mut wakers = Wakers::new();
        let mut waiters = self.waiters.lock();
        if self.is_served(ticket) {
            // Granted since the caller looked; the node is gone.
            self.state.fetch_add(need << SHIFT, AcqRel);
            self.distribute(&mut waiters, &mut wakers);
        } else {
            match waiters.remove(key) {
                // It may have been the front one holding back smaller
                // requests.
                (_, Status::Queued) => self.distribute(&mut waiters, &mut wakers),
                (_, Status::Closed) => {}
                (_, Status::Granted) => unreachable!("a semaphore grant removes the node"),
            }
        }
        drop(waiters);
        wakers.wake_all();
    }
}

/// The panic of a release past [`MAX_PERMITS`].
#[cold]
#[inline(never)]
#[track_caller]
fn too_many(n: usize) -> ! {
    panic!("adding {n} permits would overflow MAX_PERMITS ({MAX_PERMITS})")
}

impl std::fmt::Debug for RawSemaphore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawSemaphore")
            .field("available", &self.available())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// The part of an acquire future that [`RawSemaphore`] needs: how many
/// permits, and its queue node once it waits. The future that owns it must
/// call [`RawSemaphore::cancel_acquire`] when dropped.
#[derive(Debug)]
pub(crate) struct AcquireState {
    need: usize,
    /// Its queue node while it waits.
    key: Option<usize>,
    /// Its ticket while it waits (see the module docs).
    ticket: u64,
}

impl AcquireState {
    /// An acquire of `need` permits that has not waited yet.
    pub(crate) const fn new(need: usize) -> AcquireState {
        AcquireState {
            need,
            key: None,
            ticket: 0,
        }
    }
}

/// Future of [`RawSemaphore::acquire`]. Dropping it while it waits loses
/// nothing: permits already handed to it go to the next waiter.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Acquire<'a> {
    semaphore: &'a RawSemaphore,
    state: AcquireState,
}

impl Future for Acquire<'_> {
    type Output = Result<(), Closed>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.semaphore.poll_acquire(&mut this.state, cx)
    }
}

impl Drop for Acquire<'_> {
    #[inline]
    fn drop(&mut self) {
        self.semaphore.cancel_acquire(&mut self.state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn poll(sem: &RawSemaphore, acquire: &mut AcquireState) -> Poll<Result<(), Closed>> {
        sem.poll_acquire(acquire, &mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn queued_waiters_are_served_in_order_and_block_barging() {
        let sem = RawSemaphore::new(1);
        sem.try_acquire(1).unwrap();
        let mut big = AcquireState::new(2);
        let mut small = AcquireState::new(1);
        assert!(poll(&sem, &mut big).is_pending());
        assert!(poll(&sem, &mut small).is_pending());
        sem.release(1);
        assert_eq!(
            sem.try_acquire(1),
            Err(TryAcquire::NoPermits),
            "no barging past `big`"
        );
        assert!(poll(&sem, &mut small).is_pending(), "FIFO: `big` is first");
        sem.release(1);
        assert!(poll(&sem, &mut big).is_ready());
        assert!(poll(&sem, &mut small).is_pending());
        sem.release(2);
        assert!(poll(&sem, &mut small).is_ready());
        assert_eq!(sem.available(), 1);
    }

    #[test]
    fn cancelled_grant_passes_on() {
        let sem = RawSemaphore::new(0);
        let mut a = AcquireState::new(1);
        let mut b = AcquireState::new(1);
        assert!(poll(&sem, &mut a).is_pending());
        assert!(poll(&sem, &mut b).is_pending());
        sem.release(1); // handed to `a`
        sem.cancel_acquire(&mut a);
        assert!(poll(&sem, &mut b).is_ready());
        assert_eq!(sem.available(), 0);
    }

    #[test]
    fn a_granted_waiter_completes_without_taking_the_queue_lock() {
        let sem = std::sync::Arc::new(RawSemaphore::new(0));
        let mut a = AcquireState::new(1);
        assert!(poll(&sem, &mut a).is_pending());
        sem.release(1); // handed to `a`, its node removed
        let _queue = sem.waiters.lock();
        let (done, polled) = std::sync::mpsc::channel();
        let poller = {
            let sem = sem.clone();
            std::thread::spawn(move || {
                done.send(poll(&sem, &mut a)).unwrap();
            })
        };
        // A bound only for failing (the old path blocked on the lock held
        // here): the poll needs no other thread to make progress.
        let polled = polled
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the granted poll waited for the queue lock");
        assert_eq!(polled, Poll::Ready(Ok(())));
        poller.join().unwrap();
    }

    #[test]
    fn a_granted_waiter_cancelled_after_its_key_was_reused_leaves_the_new_waiter_alone() {
        let sem = RawSemaphore::new(0);
        let mut a = AcquireState::new(1);
        assert!(poll(&sem, &mut a).is_pending());
        sem.release(1); // granted to `a`: its node (and key) freed
        let mut b = AcquireState::new(1);
        assert!(poll(&sem, &mut b).is_pending());
        assert_eq!(a.key, b.key, "the slab reuses the freed key");
        sem.cancel_acquire(&mut a); // its permit goes to `b`
        assert_eq!(sem.waiters.lock().len(), 0, "`b` was granted, not unlinked");
        assert_eq!(poll(&sem, &mut b), Poll::Ready(Ok(())));
        assert_eq!(sem.available(), 0);
        let mut c = AcquireState::new(1);
        assert!(poll(&sem, &mut c).is_pending(), "b holds the one permit");
        sem.release(1);
        assert_eq!(poll(&sem, &mut c), Poll::Ready(Ok(())));
    }

    #[test]
    fn cancelled_front_unblocks_smaller_requests() {
        let sem = RawSemaphore::new(1);
        let mut big = AcquireState::new(5);
        let mut small = AcquireState::new(1);
        assert!(poll(&sem, &mut big).is_pending());
        assert!(poll(&sem, &mut small).is_pending());
        sem.cancel_acquire(&mut big);
        assert!(poll(&sem, &mut small).is_ready());
    }

    #[test]
    fn close_fails_waiters_and_later_acquires() {
        let sem = RawSemaphore::new(0);
        let mut a = AcquireState::new(1);
        assert!(poll(&sem, &mut a).is_pending());
        sem.close();
        assert_eq!(poll(&sem, &mut a), Poll::Ready(Err(Closed)));
        assert_eq!(sem.try_acquire(0), Err(TryAcquire::Closed));
        sem.release(3);
        assert_eq!(sem.available(), 3);
    }

    #[test]
    fn forget_takes_only_free_permits() {
        let sem = RawSemaphore::new(3);
        assert_eq!(sem.forget(5), 3);
        assert_eq!(sem.available(), 0);
    }
}
