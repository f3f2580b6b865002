//! [`Event`]: a flag that is set once and wakes everything waiting for it
//! (trio's and anyio's `Event`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use super::thread_wait;
use super::waiters::{WaitList, Wakers};
use crate::loom::{AtomicBool, Mutex, const_fn_unless_loom};

/// A one-shot flag: [`set`](Event::set) once, and every task in
/// [`wait`](Event::wait) — now or later — goes on. It cannot be cleared.
///
/// Usable from any thread and any runtime; threads outside async context
/// wait with [`wait_blocking`](Event::wait_blocking).
///
/// ```
/// use std::sync::Arc;
/// use keen::sync::Event;
///
/// keen::block_on(async {
///     let ready = Arc::new(Event::new());
///     let waiter = keen::spawn({
///         let ready = ready.clone();
///         async move {
///             ready.wait().await;
///             "went on"
///         }
///     });
///     ready.set();
///     assert_eq!(waiter.await.unwrap(), "went on");
/// });
/// ```
pub struct Event {
    set: AtomicBool,
    waiters: Mutex<WaitList<()>>,
}

impl Event {
    const_fn_unless_loom! {
        /// An event not yet set; usable in a `static`.
        ///
        /// ```
        /// static SHUTDOWN: keen::sync::Event = keen::sync::Event::new();
        /// assert!(!SHUTDOWN.is_set());
        /// ```
        pub const fn new() -> Event {
            Event {
                set: AtomicBool::new(false),
                waiters: Mutex::new(WaitList::new()),
            }
        }
    }

    /// Sets the event and wakes every waiter. Setting it again does nothing.
    ///
    /// ```
    /// let event = keen::sync::Event::new();
    /// event.set();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        if self.set.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut wakers = Wakers::new();
        self.waiters.lock().grant_all(&mut wakers);
        wakers.wake_all();
    }

    /// Whether [`set`](Self::set) was called.
    ///
    /// ```
    /// assert!(!keen::sync::Event::new().is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// Waits until the event is set (at once if it is already).
    ///
    /// Cancel-safe: dropping the future only leaves the waiter list.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let event = keen::sync::Event::new();
    ///     event.set();
    ///     event.wait().await; // already set: ready at once
    /// });
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
        }
    }

    /// Blocks this thread until the event is set, for code outside async
    /// context (a plain thread, `spawn_blocking`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let event = Arc::new(keen::sync::Event::new());
    /// let setter = std::thread::spawn({
    ///     let event = event.clone();
    ///     move || event.set()
    /// });
    /// event.wait_blocking();
    /// setter.join().unwrap();
    /// ```
    ///
    /// # Panics
    /// When called inside a keen task or `block_on`.
    #[track_caller]
    pub fn wait_blocking(&self) {
        thread_wait::block_on("Event::wait_blocking", self.wait());
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

/// Future of [`Event::wait`].
///
/// ```
/// keen::block_on(async {
///     let event = keen::sync::Event::new();
///     let wait: keen::sync::EventWait<'_> = event.wait();
///     event.set();
///     wait.await;
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct EventWait<'a> {
    event: &'a Event,
    key: Option<usize>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.key.is_none() && this.event.is_set() {
            return Poll::Ready(());
        }
        let mut waiters = this.event.waiters.lock();
        let key = match this.key {
            Some(key) => key,
            // `set` flips the flag before taking the lock, so a check under
            // the lock cannot miss a `set` that has not woken us.
            None if this.event.is_set() => return Poll::Ready(()),
            None => *this.key.insert(waiters.push_back((), None)),
        };
        if this.event.is_set() {
            this.key = None;
            waiters.remove(key);
            return Poll::Ready(());
        }
        waiters.poll(key, cx.waker());
        Poll::Pending
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.event.waiters.lock().remove(key);
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("event", self.event)
            .field("waiting", &self.key.is_some())
            .finish()
    }
}
