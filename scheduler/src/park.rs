//! Parking: the [`Driver`] trait through which idle workers block (so the
//! `keen` crate can stack its timer driver, and later an I/O reactor, under
//! the scheduler), the default [`ParkThread`] driver, and the per-worker
//! `Parker` that parks on the shared driver when it is free and on its own
//! condition variable otherwise. Tokens make `unpark` before `park` count:
//! no wake is lost between "queue empty" and "parked". Parkers keep the
//! runtime's [`Activity`] count exact (see `activity.rs`).

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crate::activity::Activity;
use crate::loom::{AtomicUsize, Condvar, Mutex, Ordering::SeqCst};

/// What an idle scheduler thread blocks on.
pub trait Driver: Send + 'static {
    /// Blocks until [`Unparker::unpark`] is called or `timeout` passes,
    /// processing the driver's own events (expired timers) before returning.
    /// A zero timeout only processes events.
    fn park(&mut self, timeout: Option<Duration>);
    /// [`park`](Driver::park) with the timeout given as the instant to
    /// wake at (a past one only processes events). A driver that can arm
    /// a timer for an exact instant overrides it (keen's reactor: a
    /// timerfd, which it re-arms only when the instant changes); the
    /// default parks for the time left.
    fn park_until(&mut self, deadline: Instant) {
        self.park(Some(deadline.saturating_duration_since(Instant::now())));
    }
    /// A handle that wakes a `park` in progress (or the next one).
    fn unparker(&self) -> Unparker;
    /// Processes the driver's events without blocking and says whether
    /// there were any (an I/O reactor: readiness already in the kernel).
    /// A driver stacked above uses it to tell "nothing can happen" from
    /// "something just did" (a paused clock must not jump past work).
    fn poll_now(&mut self) -> bool {
        self.park(Some(Duration::ZERO));
        false
    }
    /// Called once at runtime shutdown, after every task was dropped.
    fn shutdown(&mut self) {}
    /// The busy count this driver reads, if it cares (a paused clock does);
    /// otherwise the scheduler keeps a private one.
    fn activity(&self) -> Option<Arc<Activity>> {
        None
    }
}

/// Wakes a parked [`Driver`].
pub trait Unpark: Send + Sync + 'static {
    /// Wakes the driver's current or next `park`.
    fn unpark(&self);
}

/// A cloneable [`Unpark`] handle.
#[derive(Clone)]
pub struct Unparker(Arc<dyn Unpark>);

impl Unparker {
    /// Wraps an [`Unpark`] implementation.
    pub fn new(unpark: Arc<dyn Unpark>) -> Unparker {
        Unparker(unpark)
    }

    /// Wakes the driver.
    pub fn unpark(&self) {
        self.0.unpark();
    }
}

impl fmt::Debug for Unparker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Unparker")
    }
}

/// The default driver: a token, a mutex and a condition variable.
#[derive(Debug, Default)]
pub struct ParkThread {
    inner: Arc<Token>,
}

#[derive(Debug, Default)]
struct Token {
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl Unpark for Token {
    fn unpark(&self) {
        *self.notified.lock() = true;
        self.condvar.notify_one();
    }
}

impl ParkThread {
    /// A new driver with no pending token.
    pub fn new() -> ParkThread {
        ParkThread::default()
    }
}

impl Driver for ParkThread {
    fn park(&mut self, timeout: Option<Duration>) {
        let mut notified = self.inner.notified.lock();
        if !*notified {
            match timeout {
                Some(t) if t.is_zero() => {}
                Some(t) => {
                    let _ = self.inner.condvar.wait_for(&mut notified, t);
                }
                None => {
                    while !*notified {
                        self.inner.condvar.wait(&mut notified);
                    }
                }
            }
        }
        *notified = false;
    }

    fn unparker(&self) -> Unparker {
        Unparker(self.inner.clone())
    }
}

/// The driver shared by a scheduler's workers; one parks on it at a time.
pub(crate) struct SharedDriver {
    driver: Mutex<Box<dyn Driver>>,
    unparker: Unparker,
    activity: Arc<Activity>,
    /// Whether this is the runtime's driver (whose parker checks idleness
    /// itself) rather than a private one of a `block_on` thread.
    is_runtime_driver: bool,
}

impl SharedDriver {
    pub(crate) fn new(driver: Box<dyn Driver>) -> Arc<SharedDriver> {
        let unparker = driver.unparker();
        let activity = driver
            .activity()
            .unwrap_or_else(|| Activity::new(unparker.clone()));
        Arc::new(SharedDriver {
            driver: Mutex::new(driver),
            unparker,
            activity,
            is_runtime_driver: true,
        })
    }

    /// A private driver for a thread that blocks outside the workers (a
    /// multi-thread `block_on`), counted in `activity`.
    pub(crate) fn private(activity: Arc<Activity>) -> Arc<SharedDriver> {
        let driver = ParkThread::new();
        Arc::new(SharedDriver {
            unparker: driver.unparker(),
            driver: Mutex::new(Box::new(driver)),
            activity,
            is_runtime_driver: false,
        })
    }

    /// The runtime's busy count.
    pub(crate) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// Processes driver events without blocking if no one else is parked on
    /// the driver; otherwise pays a wake owed to the thread parked on it.
    pub(crate) fn poll_events(&self) {
        match self.driver.try_lock() {
            Some(mut driver) => driver.park(Some(Duration::ZERO)),
            None => self.activity.pay_owed_wake(),
        }
    }

    pub(crate) fn shutdown(&self) {
        self.driver.lock().shutdown();
    }
}

impl fmt::Debug for SharedDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedDriver")
    }
}

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// One worker's parker.
#[derive(Clone, Debug)]
pub(crate) struct Parker {
    inner: Arc<ParkerInner>,
}

#[derive(Debug)]
struct ParkerInner {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
    shared: Arc<SharedDriver>,
}

impl Parker {
    pub(crate) fn new(shared: Arc<SharedDriver>) -> Parker {
        Parker {
            inner: Arc::new(ParkerInner {
                state: AtomicUsize::new(EMPTY),
                mutex: Mutex::new(()),
                condvar: Condvar::new(),
                shared,
            }),
        }
    }

    /// Blocks until unparked or `timeout` passes. Consumes a pending token
    /// at once. Parks on the shared driver when no other worker does.
    ///
    /// The calling thread must be counted busy in the runtime's
    /// [`Activity`]; it stops counting while parked.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        let inner = &*self.inner;
        let shared = &*inner.shared;
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        if let Some(mut driver) = shared.driver.try_lock() {
            if inner
                .state
                .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
                .is_err()
            {
                inner.state.store(EMPTY, SeqCst); // it was NOTIFIED
                return;
            }
            if shared.is_runtime_driver {
                shared.activity.leave_quiet();
            } else {
                shared.activity.leave();
            }
            driver.park(timeout);
            self.finish_park();
            return;
        }
        let mut guard = inner.mutex.lock();
        if inner
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
            .is_err()
        {
            inner.state.store(EMPTY, SeqCst);
            return;
        }
        shared.activity.leave();
        match timeout {
            Some(t) => {
                let _ = inner.condvar.wait_for(&mut guard, t);
            }
            None => loop {
                inner.condvar.wait(&mut guard);
                if inner.state.load(SeqCst) == NOTIFIED {
                    break;
                }
            },
        }
        drop(guard);
        self.finish_park();
    }

    /// Back from blocking: an `unpark` already counted this thread busy;
    /// a timeout or a spurious return counts itself.
    fn finish_park(&self) {
        let inner = &*self.inner;
        if inner.state.swap(EMPTY, SeqCst) != NOTIFIED {
            inner.shared.activity.enter();
        }
    }

    /// Wakes this parker's current or next `park`.
    pub(crate) fn unpark(&self) {
        let inner = &*self.inner;
        // Running (the common case for a `block_on` root woken by its own
        // poll, or by a task while it runs): it is counted busy until it
        // moves the state to parked, which now fails, so the busy count
        // needs no touch (two RMWs on a line every runtime thread shares).
        if inner
            .state
            .compare_exchange(EMPTY, NOTIFIED, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        // Count the thread busy before it can wake, so the runtime never
        // looks idle while a wake is in flight.
        inner.shared.activity.enter();
        match inner.state.swap(NOTIFIED, SeqCst) {
            // Running: it was counted already (this cannot reach zero).
            EMPTY | NOTIFIED => inner.shared.activity.undo_enter(),
            PARKED_CONDVAR => {
                drop(inner.mutex.lock());
                inner.condvar.notify_one();
            }
            PARKED_DRIVER => inner.shared.unparker.unpark(),
            actual => unreachable!("parker state {actual}"),
        }
    }

    /// [`unpark`](Self::unpark) called by the parked thread itself, from
    /// inside its own driver turn (a wake its turn dispatched to a task of
    /// its own core). The turn returns by itself, so the driver is not
    /// woken (no eventfd write); only the busy count and the token are set,
    /// before the driver can look at idleness again.
    pub(crate) fn unpark_own_turn(&self) {
        let inner = &*self.inner;
        inner.shared.activity.enter();
        match inner.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => inner.shared.activity.undo_enter(),
            PARKED_DRIVER => {}
            actual => unreachable!("parker state {actual} inside the parked thread's own turn"),
        }
    }

    /// Consumes a pending unpark token without blocking: whether there was
    /// one (this parker's thread was woken since it last parked).
    pub(crate) fn take_token(&self) -> bool {
        self.inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
    }

    /// Whether both are handles to the same parker.
    pub(crate) fn ptr_eq(&self, other: &Parker) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn shared_driver(&self) -> &Arc<SharedDriver> {
        &self.inner.shared
    }
}

/// Wakes a thread blocked in `block_on` through its parker, which keeps the
/// runtime's busy count exact (a paused clock must not jump while the root
/// future is about to run).
pub(crate) struct ParkerWaker(pub(crate) Parker);

impl std::task::Wake for ParkerWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The loop of every `block_on` that does not drive tasks itself: `check`
/// (which may panic: a runtime shut down by a panic), `poll`, and `wait`
/// between polls until the future's waker ends the wait (a spurious return
/// only costs one more poll).
pub(crate) fn poll_until_ready<T>(
    mut poll: impl FnMut() -> Poll<T>,
    mut check: impl FnMut(),
    mut wait: impl FnMut(),
) -> T {
    loop {
        check();
        if let Poll::Ready(out) = poll() {
            return out;
        }
        wait();
    }
}

/// Blocks this thread until `future` completes, parking it between polls:
/// no runtime involved (the blocking forms of `keen`'s sync primitives).
pub fn block_on_thread<F: Future>(future: F) -> F::Output {
    struct UnparkThread(thread::Thread);
    impl Wake for UnparkThread {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(UnparkThread(thread::current())));
    let mut future = pin!(future);
    poll_until_ready(
        || future.as_mut().poll(&mut Context::from_waker(&waker)),
        || {},
        thread::park,
    )
}

/// Threads parked in a scheduler's `block_on` (not driving it), to be
/// unparked all at once: when the current-thread core comes back, or when a
/// multi-thread runtime shuts down on a panic.
#[derive(Debug, Default)]
pub(crate) struct ParkerList(Mutex<Vec<Parker>>);

impl ParkerList {
    /// Lists `parker` until the returned guard drops.
    pub(crate) fn register(&self, parker: Parker) -> Registered<'_> {
        self.0.lock().push(parker.clone());
        Registered(self, parker)
    }

    pub(crate) fn unpark_all(&self) {
        for parker in self.0.lock().iter() {
            parker.unpark();
        }
    }
}

/// A parker listed in a [`ParkerList`]; unlisted when dropped.
#[derive(Debug)]
pub(crate) struct Registered<'a>(&'a ParkerList, Parker);

impl Registered<'_> {
    pub(crate) fn parker(&self) -> &Parker {
        &self.1
    }
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.0.0.lock().retain(|p| !p.ptr_eq(&self.1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpark_before_park_is_not_lost() {
        let parker = Parker::new(SharedDriver::new(Box::new(ParkThread::new())));
        parker.unpark();
        parker.park(None); // returns at once
    }

    #[test]
    fn unpark_from_another_thread_wakes_driver_and_condvar_parkers() {
        let shared = SharedDriver::new(Box::new(ParkThread::new()));
        for _ in 0..100 {
            let a = Parker::new(shared.clone());
            let b = Parker::new(shared.clone());
            let (ua, ub) = (a.clone(), b.clone());
            std::thread::scope(|s| {
                s.spawn(|| a.park(None));
                s.spawn(|| b.park(None));
                ua.unpark();
                ub.unpark();
            });
        }
    }

    /// Counts wakes of the driver (eventfd writes, in the real reactor).
    struct CountUnparks(std::sync::atomic::AtomicUsize);
    impl Unpark for CountUnparks {
        fn unpark(&self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    /// A driver whose turn wakes a task of the parked thread itself, as an
    /// I/O or timer dispatch does, and then returns.
    struct SelfWaking {
        parker: Arc<parking_lot::Mutex<Option<Parker>>>,
        unparks: Arc<CountUnparks>,
    }
    impl Driver for SelfWaking {
        fn park(&mut self, _timeout: Option<Duration>) {
            let parker = self.parker.lock().clone().unwrap();
            parker.unpark_own_turn();
            parker.unpark_own_turn(); // a second local wake in one turn
        }
        fn unparker(&self) -> Unparker {
            Unparker::new(self.unparks.clone())
        }
    }

    #[test]
    fn a_wake_from_the_parked_threads_own_turn_counts_it_busy_without_waking_the_driver() {
        let slot = Arc::new(parking_lot::Mutex::new(None));
        let unparks = Arc::new(CountUnparks(std::sync::atomic::AtomicUsize::new(0)));
        let shared = SharedDriver::new(Box::new(SelfWaking {
            parker: slot.clone(),
            unparks: unparks.clone(),
        }));
        let parker = Parker::new(shared.clone());
        *slot.lock() = Some(parker.clone());
        for _ in 0..3 {
            shared.activity().enter(); // park's precondition: counted busy
            parker.park(None);
            assert!(!shared.activity().is_idle(), "back from park counted busy");
            shared.activity().leave_quiet();
            assert!(shared.activity().is_idle(), "counted exactly once");
        }
        assert_eq!(unparks.0.load(SeqCst), 0, "the driver was never woken");
        // The driver holds the slot, the slot the parker, the parker the
        // driver: break the cycle (valgrind reports it as a leak otherwise).
        *slot.lock() = None;
    }

    #[test]
    fn timeout_returns() {
        let parker = Parker::new(SharedDriver::new(Box::new(ParkThread::new())));
        parker.park(Some(Duration::from_millis(1)));
    }
}
