//! [`Notify`]: wakes one waiting task or all of them, with tokio's
//! meaning; and its future [`Notified`].
//!
//! One `AtomicUsize` and a [`WaitList`] under a lock:
//!
//! ```text
//!  bits: [ notify_waiters calls ......... | WAITING | PERMIT ]
//! ```
//!
//! - `PERMIT`: a `notify_one` found nobody waiting and stored its
//!   notification; the next `Notified` takes it and completes at once.
//! - `WAITING` is set whenever the queue is non-empty, and changed only
//!   with the lock held (as in `raw_semaphore.rs`). While it is clear,
//!   `notify_one` stores the permit and `notify_waiters` counts its call
//!   without the lock; while it is set, both take the lock and grant nodes.
//!   A `notify_one` that empties the queue leaves it set (the next waiter
//!   would set it again at once: ping-pong saves two read-modify-writes per
//!   wait); the next `notify_one` or `notify_waiters` that finds the queue
//!   empty under the lock clears it.
//! - The upper bits count `notify_waiters` calls. A `Notified` reads the
//!   count when it is *created*; if the count moved before the future
//!   queued itself, a `notify_waiters` call came after its creation, so it
//!   completes. That is tokio's rule: `notify_waiters` reaches every
//!   `Notified` created before the call, polled or not.
//!
//! No notification is lost: a waiter sets `WAITING` (under the lock) and
//! looks at the word it replaced. A `notify_one` or `notify_waiters` that
//! changed the word before that is seen there; one that comes after sees
//! `WAITING`, waits for the lock and grants the node the waiter queued.
//!
//! Each node records what granted it (`Kind`), because cancelling differs:
//! a `Notified` dropped after a `notify_one` picked it passes the
//! notification on (to the next waiter, or back into the permit), while a
//! `notify_waiters` wake-up is nobody else's and is simply dropped.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, Waker};

use super::waiters::{Status, WaitList, Wakers};
use crate::loom::{AtomicUsize, Mutex, const_fn_unless_loom};

const PERMIT: usize = 1;
const WAITING: usize = 2;
/// One `notify_waiters` call in the counter bits (which wrap harmlessly).
const CALL: usize = 4;

/// What granted a queued node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `notify_one` (the default: a node is marked `All` only by
    /// `notify_waiters`, just before it is granted).
    One,
    /// `notify_waiters`.
    All,
}

/// Notifies tasks: [`notify_one`](Notify::notify_one) wakes the task that
/// has waited longest, or stores one permit for the next
/// [`notified`](Notify::notified) if nobody waits;
/// [`notify_waiters`](Notify::notify_waiters) wakes every task waiting now
/// and stores nothing.
///
/// Names and meaning follow `tokio::sync::Notify`. Usable from any thread
/// and any runtime (notifying never blocks).
///
/// ```
/// use std::sync::Arc;
/// use keen::sync::Notify;
///
/// keen::block_on(async {
///     let notify = Arc::new(Notify::new());
///     let waiter = keen::spawn({
///         let notify = notify.clone();
///         async move {
///             notify.notified().await;
///             "woken"
///         }
///     });
///     notify.notify_one(); // wakes it, or leaves a permit if it has not waited yet
///     assert_eq!(waiter.await.unwrap(), "woken");
/// });
/// ```
pub struct Notify {
    state: AtomicUsize,
    waiters: Mutex<WaitList<Kind>>,
}

impl Notify {
    const_fn_unless_loom! {
        /// A `Notify` with no permit stored; usable in a `static`.
        ///
        /// ```
        /// static WAKE: keen::sync::Notify = keen::sync::Notify::new();
        /// WAKE.notify_one();
        /// ```
        pub const fn new() -> Notify {
            Notify {
                state: AtomicUsize::new(0),
                waiters: Mutex::new(WaitList::new()),
            }
        }
    }

    const_fn_unless_loom! {
        /// The same as [`new`](Self::new) (tokio has a separate `const`
        /// constructor; here `new` is `const` already).
        ///
        /// ```
        /// static WAKE: keen::sync::Notify = keen::sync::Notify::const_new();
        /// WAKE.notify_waiters();
        /// ```
        pub const fn const_new() -> Notify {
            Notify::new()
        }
    }

    /// A future that completes when this `Notify` is notified: by a stored
    /// permit, by a `notify_one` while it waits, or by a `notify_waiters`
    /// made after this call (even before the future is first polled).
    ///
    /// A `notify_one` reaches the future only once it waits: once it was
    /// polled, or [`enable`](Notified::enable)d. Waiters are served in
    /// FIFO order.
    ///
    /// Cancel-safe: dropping the future loses its place in the queue and
    /// nothing else; a `notify_one` notification already handed to it goes
    /// to the next waiter, or back into the stored permit.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let notify = keen::sync::Notify::new();
    ///     notify.notify_one(); // nobody waits: stored
    ///     notify.notified().await; // takes the permit, at once
    /// });
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            wait: Wait::new(self),
        }
    }

    /// [`notified`](Self::notified) for a shared `Notify`: the future owns
    /// its `Arc`, so it is `'static` and can be moved into a task. Same
    /// rules (a `notify_waiters` after this call reaches it, polled or not).
    ///
    /// ```
    /// use std::sync::Arc;
    /// keen::block_on(async {
    ///     let notify = Arc::new(keen::sync::Notify::new());
    ///     let waiting = notify.clone().notified_owned();
    ///     let task = keen::spawn(waiting); // moved into a task
    ///     notify.notify_waiters();
    ///     task.await.unwrap();
    /// });
    /// ```
    pub fn notified_owned(self: Arc<Self>) -> OwnedNotified {
        let wait = Wait::new(&self);
        OwnedNotified { notify: self, wait }
    }

    /// Wakes the task that has waited longest; if none waits, stores a
    /// permit (at most one) that the next [`notified`](Self::notified)
    /// takes at once.
    ///
    /// ```
    /// let notify = keen::sync::Notify::new();
    /// notify.notify_one();
    /// notify.notify_one(); // still one permit
    /// keen::block_on(async {
    ///     notify.notified().await;
    ///     let mut second = std::pin::pin!(notify.notified());
    ///     assert!(!second.as_mut().enable(), "only one permit was stored");
    /// });
    /// ```
    pub fn notify_one(&self) {
        if self.permit_if_idle() {
            return;
        }
        let mut wakers = Wakers::new();
        let mut waiters = self.waiters.lock();
        self.grant_one(&mut waiters, &mut wakers);
        drop(waiters);
        wakers.wake_all();
    }

    /// Like [`notify_one`](Self::notify_one), but wakes the task that
    /// started waiting *last* (LIFO); with nobody waiting it stores the
    /// permit. A `Notified` chosen this way and dropped before it completes
    /// passes the notification on as `notify_one` would (to the longest
    /// waiter, or back into the permit).
    ///
    /// ```
    /// use std::pin::pin;
    /// let notify = keen::sync::Notify::new();
    /// let mut first = pin!(notify.notified());
    /// let mut last = pin!(notify.notified());
    /// assert!(!first.as_mut().enable() && !last.as_mut().enable());
    /// notify.notify_last();
    /// assert!(last.as_mut().enable(), "the newest waiter was chosen");
    /// assert!(!first.as_mut().enable());
    /// ```
    pub fn notify_last(&self) {
        if self.permit_if_idle() {
            return;
        }
        let mut wakers = Wakers::new();
        let mut waiters = self.waiters.lock();
        match waiters.back_mut() {
            Some(kind) => {
                *kind = Kind::One;
                waiters.grant_back(&mut wakers);
            }
            // Nobody waits: as `notify_one` (permit, `WAITING` cleared).
            None => self.grant_one(&mut waiters, &mut wakers),
        }
        drop(waiters);
        wakers.wake_all();
    }

    /// Wakes every task waiting now, and every [`Notified`] created before
    /// this call even if it was never polled. Stores no permit, and leaves a
    /// stored one alone.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let notify = keen::sync::Notify::new();
    ///     let (a, b) = (notify.notified(), notify.notified());
    ///     notify.notify_waiters(); // reaches both, though neither was polled
    ///     a.await;
    ///     b.await;
    ///     let mut later = std::pin::pin!(notify.notified());
    ///     assert!(!later.as_mut().enable(), "no permit was stored");
    /// });
    /// ```
    pub fn notify_waiters(&self) {
        let mut state = self.state.load(SeqCst);
        while state & WAITING == 0 {
            match self
                .state
                .compare_exchange_weak(state, state.wrapping_add(CALL), SeqCst, SeqCst)
            {
                Ok(_) => return,
                Err(now) => state = now,
            }
        }
        let mut wakers = Wakers::new();
        let mut waiters = self.waiters.lock();
        self.state.fetch_add(CALL, SeqCst);
        while let Some(kind) = waiters.front_mut() {
            *kind = Kind::All;
            waiters.grant_front(&mut wakers);
        }
        self.state.fetch_and(!WAITING, SeqCst);
        drop(waiters);
        wakers.wake_all();
    }

    /// Under the lock: grants the front waiter a `notify_one`, or stores
    /// the permit if nobody waits.
    /// With `WAITING` clear (nobody queued), stores the permit without the
    /// lock and returns `true` (a stored permit stays one); `false` if the
    /// queue must be served under the lock.
    fn permit_if_idle(&self) -> bool {
        let mut state = self.state.load(SeqCst);
        while state & WAITING == 0 {
            if state & PERMIT != 0 {
                return true;
            }
            match self
                .state
                .compare_exchange_weak(state, state | PERMIT, SeqCst, SeqCst)
            {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
        false
    }

    fn grant_one(&self, waiters: &mut WaitList<Kind>, wakers: &mut Wakers) {
        match waiters.front_mut() {
            Some(kind) => {
                *kind = Kind::One;
                waiters.grant_front(wakers);
                // `WAITING` stays set even if the queue is empty now.
            }
            // Nobody waits: store the permit, and clear a `WAITING` left
            // set by an earlier grant, in one step.
            None => {
                let mut state = self.state.load(SeqCst);
                loop {
                    let next = (state | PERMIT) & !WAITING;
                    match self
                        .state
                        .compare_exchange_weak(state, next, SeqCst, SeqCst)
                    {
                        Ok(_) => break,
                        Err(now) => state = now,
                    }
                }
            }
        }
    }

    /// Under the lock: keeps `WAITING` equal to "queue non-empty".
    fn clear_waiting_if_empty(&self, waiters: &WaitList<Kind>) {
        if waiters.is_empty() {
            self.state.fetch_and(!WAITING, SeqCst);
        }
    }

    /// Takes the stored permit if there is one.
    fn take_permit(&self) -> bool {
        let mut state = self.state.load(SeqCst);
        while state & PERMIT != 0 {
            match self
                .state
                .compare_exchange_weak(state, state & !PERMIT, SeqCst, SeqCst)
            {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
        false
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(SeqCst);
        f.debug_struct("Notify")
            .field("permit", &(state & PERMIT != 0))
            .field("waiting", &(state & WAITING != 0))
            .finish()
    }
}

/// Where a [`Notified`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// Not queued yet.
    Init,
    /// Queued (or granted) under this key.
    Queued(usize),
    /// Completed.
    Done,
}

/// Future of [`Notify::notified`].
///
/// ```
/// use std::pin::pin;
/// keen::block_on(async {
///     let notify = keen::sync::Notify::new();
///     let mut notified = pin!(notify.notified());
///     notified.as_mut().enable(); // queued now: a notify_one reaches it
///     notify.notify_one();
///     notified.await;
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    wait: Wait,
}

/// Future of [`Notify::notified_owned`]: [`Notified`] holding an
/// `Arc<Notify>`, so it is `'static`.
#[must_use = "futures do nothing unless polled"]
pub struct OwnedNotified {
    notify: Arc<Notify>,
    wait: Wait,
}

/// What a waiting future keeps, whichever way it holds its `Notify`.
#[derive(Debug)]
struct Wait {
    /// The `notify_waiters` count (with the flag bits cleared) when created.
    calls: usize,
    state: Waiting,
}

impl Wait {
    fn new(notify: &Notify) -> Wait {
        Wait {
            calls: notify.state.load(SeqCst) & !(CALL - 1),
            state: Waiting::Init,
        }
    }

    fn poll(&mut self, notify: &Notify, waker: Option<&Waker>) -> Poll<()> {
        let key = match self.state {
            Waiting::Done => return Poll::Ready(()),
            Waiting::Queued(key) => key,
            Waiting::Init => {
                if notify.state.load(SeqCst) & !(CALL - 1) != self.calls || notify.take_permit() {
                    self.state = Waiting::Done;
                    return Poll::Ready(());
                }
                let mut waiters = notify.waiters.lock();
                // With `WAITING` already set no lock-free notify can be
                // under way (they need it clear, and it is cleared only
                // under the lock we hold): a load reads the same word.
                let mut before = notify.state.load(SeqCst);
                if before & WAITING == 0 {
                    before = notify.state.fetch_or(WAITING, SeqCst);
                }
                if before & !(CALL - 1) != self.calls || notify.take_permit() {
                    notify.clear_waiting_if_empty(&waiters);
                    self.state = Waiting::Done;
                    return Poll::Ready(());
                }
                let key = waiters.push_back(Kind::One, waker.cloned());
                self.state = Waiting::Queued(key);
                return Poll::Pending;
            }
        };
        let mut waiters = notify.waiters.lock();
        let status = match waker {
            Some(waker) => waiters.poll(key, waker),
            None => waiters.status(key),
        };
        match status {
            Status::Queued => Poll::Pending,
            Status::Granted | Status::Closed => {
                waiters.remove(key);
                self.state = Waiting::Done;
                Poll::Ready(())
            }
        }
    }

    /// The future is dropped: leave the queue, passing on a `notify_one`
    /// (or `notify_last`) it was chosen for.
    fn cancel(&mut self, notify: &Notify) {
        let Waiting::Queued(key) = self.state else {
            return;
        };
        let mut wakers = Wakers::new();
        let mut waiters = notify.waiters.lock();
        match waiters.remove(key) {
            (_, Status::Queued) => notify.clear_waiting_if_empty(&waiters),
            // A `notify_one` chose this future: pass it on.
            (Kind::One, Status::Granted) => notify.grant_one(&mut waiters, &mut wakers),
            (Kind::All, _) | (_, Status::Closed) => {}
        }
        drop(waiters);
        wakers.wake_all();
    }
}

impl Notified<'_> {
    /// Queues this future as a waiter without polling it, so that a later
    /// [`notify_one`](Notify::notify_one) can pick it; returns whether it
    /// is already notified (then awaiting it completes at once).
    ///
    /// ```
    /// use std::pin::pin;
    /// let notify = keen::sync::Notify::new();
    /// let mut notified = pin!(notify.notified());
    /// assert!(!notified.as_mut().enable());
    /// notify.notify_one();
    /// assert!(notified.as_mut().enable(), "the notification went to it");
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.get_mut().poll_notified(None).is_ready()
    }

    fn poll_notified(&mut self, waker: Option<&Waker>) -> Poll<()> {
        self.wait.poll(self.notify, waker)
    }
}

impl OwnedNotified {
    /// As [`Notified::enable`].
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        this.wait.poll(&this.notify, None).is_ready()
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_notified(Some(cx.waker()))
    }
}

impl Future for OwnedNotified {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.wait.poll(&this.notify, Some(cx.waker()))
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        self.wait.cancel(self.notify);
    }
}

impl Drop for OwnedNotified {
    fn drop(&mut self) {
        self.wait.cancel(&self.notify);
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("notify", self.notify)
            .field("state", &self.wait.state)
            .finish()
    }
}

impl fmt::Debug for OwnedNotified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedNotified")
            .field("notify", &*self.notify)
            .field("state", &self.wait.state)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(n: &mut Notified<'_>) -> Poll<()> {
        n.poll_notified(Some(Waker::noop()))
    }

    #[test]
    fn waiters_are_served_in_order_and_a_dropped_grant_passes_on() {
        let notify = Notify::new();
        let (mut a, mut b, mut c) = (notify.notified(), notify.notified(), notify.notified());
        assert!(poll(&mut a).is_pending());
        assert!(poll(&mut b).is_pending());
        assert!(poll(&mut c).is_pending());
        notify.notify_one(); // to `a`
        drop(a); // passes it to `b`
        assert!(poll(&mut c).is_pending());
        assert!(poll(&mut b).is_ready());
        notify.notify_one(); // to `c`
        drop(c); // nobody left: back into the permit
        assert!(notify.take_permit());
        assert_eq!(notify.state.load(SeqCst) & (WAITING | PERMIT), 0);
    }

    #[test]
    fn notify_waiters_counts_calls_and_leaves_the_permit() {
        let notify = Notify::new();
        notify.notify_one();
        let mut before = notify.notified();
        notify.notify_waiters();
        let mut after = notify.notified();
        assert!(poll(&mut before).is_ready(), "created before the call");
        assert!(poll(&mut after).is_ready(), "the stored permit");
        let mut third = notify.notified();
        assert!(poll(&mut third).is_pending());
        notify.notify_waiters();
        assert!(poll(&mut third).is_ready());
        drop(third); // a `notify_waiters` grant is not passed on
        assert!(!notify.take_permit());
    }
}
