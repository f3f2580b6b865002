//! [`Condition`]: a condition variable for keen's [`Mutex`], whose
//! notifications are never lost to a cancelled waiter.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::mutex::{Mutex, MutexGuard};
use super::waiters::{Status, WaitList, Wakers};
use crate::loom::{Mutex as PlMutex, const_fn_unless_loom};

/// A condition variable used with a keen [`Mutex`] (trio's and anyio's
/// `Condition`, shaped like `std::sync::Condvar`).
///
/// [`wait`](Condition::wait) takes a guard, releases the mutex, waits for a
/// notification and takes the mutex again before returning the guard.
/// Waiters are notified in the order they started waiting. A notification
/// reaches only tasks already waiting, so notify while holding the mutex
/// (or after changing the state under it), as with any condition variable.
///
/// A notified waiter whose future is dropped before it returns (cancelled
/// by a scope, say) passes its notification to the next waiter, so
/// cancellation never swallows a notification meant for someone else.
///
/// ```
/// use std::sync::Arc;
/// use keen::sync::{Condition, Mutex};
///
/// keen::block_on(async {
///     let state = Arc::new((Mutex::new(false), Condition::new()));
///     let waiter = keen::spawn({
///         let state = state.clone();
///         async move {
///             let (ready, cond) = &*state;
///             let mut guard = ready.lock().await;
///             while !*guard {
///                 guard = cond.wait(guard).await;
///             }
///         }
///     });
///     let (ready, cond) = &*state;
///     *ready.lock().await = true;
///     cond.notify_all();
///     waiter.await.unwrap();
/// });
/// ```
pub struct Condition {
    waiters: PlMutex<WaitList<()>>,
}

impl Condition {
    const_fn_unless_loom! {
        /// A condition variable with nobody waiting; usable in a `static`.
        ///
        /// ```
        /// static CHANGED: keen::sync::Condition = keen::sync::Condition::new();
        /// assert_eq!(CHANGED.notify_all(), 0);
        /// ```
        pub const fn new() -> Condition {
            Condition {
                waiters: PlMutex::new(WaitList::new()),
            }
        }
    }

    /// Releases the mutex behind `guard`, waits for a notification, then
    /// locks the mutex again and returns the new guard.
    ///
    /// The waiter is queued before the mutex is released, so a notify made
    /// under the mutex after this call cannot be missed. Wake-ups may be
    /// spurious in spirit (another waiter may change the state first):
    /// re-check the condition in a loop.
    ///
    /// Cancel-safe in this sense: dropping the future while it waits leaves
    /// the queue; dropping it after it was notified but before it has the
    /// mutex again passes the notification on. Either way the mutex is left
    /// unlocked (the guard was given up).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use keen::sync::{Condition, Mutex};
    /// keen::block_on(async {
    ///     let pair = Arc::new((Mutex::new(0), Condition::new()));
    ///     let pair2 = pair.clone();
    ///     let task = keen::spawn(async move {
    ///         let (m, c) = &*pair2;
    ///         let mut n = m.lock().await;
    ///         while *n == 0 {
    ///             n = c.wait(n).await;
    ///         }
    ///         *n
    ///     });
    ///     *pair.0.lock().await = 7;
    ///     pair.1.notify(1);
    ///     assert_eq!(task.await.unwrap(), 7);
    /// });
    /// ```
    pub async fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex: &'a Mutex<T> = MutexGuard::mutex(&guard);
        let mut waiter = Waiter {
            condition: self,
            key: Some(self.waiters.lock().push_back((), None)),
        };
        drop(guard);
        (&mut waiter).await;
        // Notified: from here until we hold the mutex, being dropped must
        // hand the notification to the next waiter.
        let mut pass_on = PassOn(Some(self));
        let guard = mutex.lock().await;
        pass_on.0 = None;
        guard
    }

    /// Wakes up to `n` waiters, oldest first; returns how many it woke.
    ///
    /// ```
    /// let cond = keen::sync::Condition::new();
    /// assert_eq!(cond.notify(2), 0); // nobody is waiting
    /// ```
    pub fn notify(&self, n: usize) -> usize {
        let mut wakers = Wakers::new();
        let mut waiters = self.waiters.lock();
        let mut woken = 0;
        while woken < n && waiters.grant_front(&mut wakers) {
            woken += 1;
        }
        drop(waiters);
        wakers.wake_all();
        woken
    }

    /// Wakes the oldest waiter; returns whether there was one.
    ///
    /// ```
    /// assert!(!keen::sync::Condition::new().notify_one());
    /// ```
    pub fn notify_one(&self) -> bool {
        self.notify(1) == 1
    }

    /// Wakes every waiter; returns how many it woke.
    ///
    /// ```
    /// assert_eq!(keen::sync::Condition::new().notify_all(), 0);
    /// ```
    pub fn notify_all(&self) -> usize {
        let mut wakers = Wakers::new();
        let mut waiters = self.waiters.lock();
        let woken = waiters.len();
        waiters.grant_all(&mut wakers);
        drop(waiters);
        wakers.wake_all();
        woken
    }

    /// How many tasks are waiting for a notification right now.
    ///
    /// ```
    /// assert_eq!(keen::sync::Condition::new().waiters(), 0);
    /// ```
    pub fn waiters(&self) -> usize {
        self.waiters.lock().len()
    }
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters())
            .finish()
    }
}

/// One queued waiter; completes when notified.
struct Waiter<'a> {
    condition: &'a Condition,
    key: Option<usize>,
}

impl Future for Waiter<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let key = this.key.expect("polled after completion");
        let mut waiters = this.condition.waiters.lock();
        match waiters.poll(key, cx.waker()) {
            Status::Queued => Poll::Pending,
            Status::Granted | Status::Closed => {
                waiters.remove(key);
                this.key = None;
                Poll::Ready(())
            }
        }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut wakers = Wakers::new();
        let mut waiters = self.condition.waiters.lock();
        if let (_, Status::Granted) = waiters.remove(key) {
            waiters.grant_front(&mut wakers);
        }
        drop(waiters);
        wakers.wake_all();
    }
}

/// Passes a consumed notification on if dropped (the wait was cancelled
/// between the notification and re-locking the mutex).
struct PassOn<'a>(Option<&'a Condition>);

impl Drop for PassOn<'_> {
    fn drop(&mut self) {
        if let Some(condition) = self.0.take() {
            condition.notify(1);
        }
    }
}
