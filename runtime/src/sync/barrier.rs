//! [`Barrier`]: `n` tasks wait until all `n` have arrived, then all go on
//! together, one of them as the leader ([`BarrierWaitResult`]); reusable
//! generation after generation.
//!
//! A [`WaitList`] under a lock holds this generation's waiting arrivals, so
//! "arrived" is the queue's length. The `n`-th arrival grants the whole
//! queue (which empties it: the next arrival starts a new generation) and
//! is the leader. A waiting arrival dropped before its generation was
//! complete leaves the queue, so it no longer counts.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::waiters::{Status, WaitList, Wakers};
use crate::loom::Mutex;

/// A meeting point for `n` tasks: each calls [`wait`](Barrier::wait), and
/// all of them go on once the `n`-th has arrived.
///
/// Names and meaning follow `tokio::sync::Barrier`, with one difference in
/// cancellation: here a `wait` future dropped while waiting withdraws its
/// arrival (tokio's stays counted; its `wait` is documented as not cancel
/// safe). See [`wait`](Barrier::wait).
///
/// ```
/// use std::sync::Arc;
/// use keen::sync::Barrier;
///
/// keen::block_on(async {
///     let barrier = Arc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let barrier = barrier.clone();
///             keen::spawn(async move { barrier.wait().await.is_leader() })
///         })
///         .collect();
///     let mut leaders = 0;
///     for t in tasks {
///         leaders += t.await.unwrap() as usize;
///     }
///     assert_eq!(leaders, 1);
/// });
/// ```
pub struct Barrier {
    n: usize,
    waiters: Mutex<WaitList<()>>,
}

impl Barrier {
    /// A barrier for `n` tasks (`0` is taken as `1`, as in tokio).
    ///
    /// ```
    /// keen::block_on(async {
    ///     let alone = keen::sync::Barrier::new(1);
    ///     assert!(alone.wait().await.is_leader());
    /// });
    /// ```
    pub fn new(n: usize) -> Barrier {
        Barrier {
            n: n.max(1),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Arrives, and waits until `n` tasks have arrived in this generation;
    /// the last to arrive gets [`is_leader`](BarrierWaitResult::is_leader)
    /// `true`, all others `false`. Then the barrier is ready for the next
    /// generation.
    ///
    /// Arrival happens on the first poll. Cancel safety: dropping the
    /// future while it waits withdraws its arrival (the generation then
    /// needs another task); dropping it after its generation completed
    /// changes nothing (the others went on already). tokio counts a
    /// cancelled arrival as arrived; we withdraw it so that a timed-out
    /// participant cannot release the others early.
    ///
    /// ```
    /// use std::sync::Arc;
    /// keen::block_on(async {
    ///     let barrier = Arc::new(keen::sync::Barrier::new(2));
    ///     for _generation in 0..3 {
    ///         let other = keen::spawn({
    ///             let barrier = barrier.clone();
    ///             async move { barrier.wait().await.is_leader() }
    ///         });
    ///         let here = barrier.wait().await.is_leader();
    ///         assert!(here ^ other.await.unwrap(), "one leader per generation");
    ///     }
    /// });
    /// ```
    pub async fn wait(&self) -> BarrierWaitResult {
        Arrival {
            barrier: self,
            key: None,
        }
        .await
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &self.waiters.lock().len())
            .finish()
    }
}

/// Returned by [`Barrier::wait`] once the generation is complete.
///
/// ```
/// keen::block_on(async {
///     let result: keen::sync::BarrierWaitResult = keen::sync::Barrier::new(1).wait().await;
///     assert!(result.is_leader());
/// });
/// ```
#[derive(Debug, Clone)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this task was the generation's leader (exactly one is).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

/// One task's arrival: queued under `key` while the generation fills.
struct Arrival<'a> {
    barrier: &'a Barrier,
    key: Option<usize>,
}

impl Future for Arrival<'_> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let this = self.get_mut();
        let mut wakers = Wakers::new();
        let mut waiters = this.barrier.waiters.lock();
        let Some(key) = this.key else {
            if waiters.len() + 1 == this.barrier.n {
                waiters.grant_all(&mut wakers);
                drop(waiters);
                wakers.wake_all();
                return Poll::Ready(BarrierWaitResult(true));
            }
            this.key = Some(waiters.push_back((), Some(cx.waker().clone())));
            return Poll::Pending;
        };
        match waiters.poll(key, cx.waker()) {
            Status::Queued => Poll::Pending,
            Status::Granted | Status::Closed => {
                waiters.remove(key);
                this.key = None; // completed: `Drop` has nothing to withdraw
                Poll::Ready(BarrierWaitResult(false))
            }
        }
    }
}

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Queued: withdraw the arrival. Granted: the generation went on.
            self.barrier.waiters.lock().remove(key);
        }
    }
}
