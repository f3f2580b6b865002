//! Activity accounting: how many threads are doing work for one runtime
//! right now (running workers, threads inside `block_on`, blocking tasks).
//!
//! The timer driver reads it to decide when a *paused* clock may jump to the
//! next timer: only when the count is zero, i.e. every thread that could make
//! progress is parked and no wake is in flight. To keep that exact, the
//! thread that unparks a parker counts it busy *before* waking it, and a
//! parker that wakes on its own (timeout) counts itself. When the count falls
//! to zero while a paused clock watches, the driver is unparked so the thread
//! parked on it re-evaluates; the thread about to park on the driver itself
//! leaves quietly, since it is the one that will look.
//!
//! It also carries the driver wake a busy runtime thread may *owe*
//! ([`Activity::defer_wake`]): a timer far in the future, inserted while
//! another thread sleeps on the driver, need not wake that thread at once
//! (timeouts are mostly cancelled long before they fire); the debt is paid
//! the moment any runtime thread stops being busy, and by busy workers at
//! each maintenance tick ([`Activity::pay_owed_wake`]).
//!
//! A thread is counted at most once per runtime: a blocking task is counted
//! from its spawn, and when it calls that runtime's `block_on`, the
//! thread-local mark set by [`BusyGuard::mark_thread`] makes `block_on` use
//! the existing count ([`Activity::thread_guard`] returns `None`) instead of
//! adding one that its parks could never release.

use std::fmt;
use std::ptr;
use std::sync::Arc;

use crate::context;
use crate::loom::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::park::Unparker;

// Per thread (in the crate's thread context): `counted`, the activity this
// thread is already counted in, if any; `worker`, the activity whose
// worker this thread is (it runs maintenance ticks).

/// The busy-thread count of one runtime.
pub struct Activity {
    busy: AtomicUsize,
    watching: AtomicBool,
    /// The thread parked on the driver must be woken to look at the wheel
    /// again, before any runtime thread blocks.
    owed_wake: AtomicBool,
    /// Whether an owed wake is still needed (the driver's own check); none
    /// means always.
    wake_check: Option<WakeCheck>,
    unparker: Unparker,
}

/// A driver's answer to "does the thread parked on me need waking?".
pub type WakeCheck = Box<dyn Fn() -> bool + Send + Sync>;

impl Activity {
    /// A count of zero whose idle signal unparks `driver`.
    pub fn new(driver: Unparker) -> Arc<Activity> {
        Activity::with_wake_check(driver, None)
    }

    /// As [`new`](Self::new); an owed wake is paid only if `check` (when
    /// given) says the thread parked on the driver still needs it.
    pub fn with_wake_check(driver: Unparker, check: Option<WakeCheck>) -> Arc<Activity> {
        Arc::new(Activity {
            busy: AtomicUsize::new(0),
            watching: AtomicBool::new(false),
            owed_wake: AtomicBool::new(false),
            wake_check: check,
            unparker: driver,
        })
    }

    /// One more thread is busy.
    pub fn enter(&self) {
        self.busy.fetch_add(1, SeqCst);
    }

    /// One thread less is busy; unparks the driver if that made the runtime
    /// idle while someone watches.
    pub fn leave(&self) {
        self.pay_owed_wake();
        if self.busy.fetch_sub(1, SeqCst) == 1 && self.watching.load(SeqCst) {
            self.unparker.unpark();
        }
    }

    /// As [`leave`](Self::leave), without the signal: for the thread about
    /// to park on the driver, which checks idleness and reads the wheel
    /// itself (so it also settles an owed wake).
    pub fn leave_quiet(&self) {
        self.owed_wake.store(false, SeqCst);
        self.busy.fetch_sub(1, SeqCst);
    }

    /// Takes back an [`enter`](Self::enter) made for a thread that turned
    /// out to be running already (no idle signal, no effect on an owed
    /// wake: nobody parks here).
    pub fn undo_enter(&self) {
        self.busy.fetch_sub(1, SeqCst);
    }

    /// Records that the thread parked on the driver should look at the
    /// timers again, without waking it now. Only for a worker of this
    /// runtime ([`is_worker_thread`](Self::is_worker_thread)): it pays the
    /// debt at its next maintenance tick or when it stops being busy.
    pub fn defer_wake(&self) {
        self.owed_wake.store(true, SeqCst);
    }

    /// Wakes the driver's thread if a wake was deferred and is still
    /// needed (a deferred timer may be gone already).
    pub fn pay_owed_wake(&self) {
        if self.owed_wake.load(SeqCst)
            && self.owed_wake.swap(false, SeqCst)
            && self.wake_check.as_ref().is_none_or(|check| check())
        {
            self.unparker.unpark();
        }
    }

    /// Marks the calling thread as a worker of this runtime (one that runs
    /// maintenance ticks) until the mark drops.
    pub fn mark_worker(&self) -> WorkerMark {
        let prev = context::with(|c| c.worker.replace(ptr::from_ref(self))).unwrap_or(ptr::null());
        WorkerMark { prev }
    }

    /// Whether the calling thread is a worker of this runtime: busy threads
    /// of other kinds (`block_on`, blocking tasks) have no maintenance tick
    /// to pay an owed wake with, so they never defer one.
    pub fn is_worker_thread(&self) -> bool {
        context::with(|c| c.worker.get()) == Some(ptr::from_ref(self))
    }

    /// Whether no thread is busy.
    pub fn is_idle(&self) -> bool {
        self.busy.load(SeqCst) == 0
    }

    /// Turns the idle signal on (a paused clock) or off.
    pub fn set_watching(&self, watching: bool) {
        self.watching.store(watching, SeqCst);
    }

    /// Counts one unit of work busy until the guard drops (the guard may
    /// move to another thread, as a blocking task's does).
    pub fn busy_guard(self: &Arc<Self>) -> BusyGuard {
        self.enter();
        BusyGuard(self.clone())
    }

    /// Counts the calling thread busy until the guard drops and marks it as
    /// counted; `None` if it already is counted in this activity.
    pub fn thread_guard(self: &Arc<Self>) -> Option<ThreadGuard> {
        let me = Arc::as_ptr(self);
        if context::with(|c| c.counted.get()) == Some(me) {
            return None;
        }
        let busy = self.busy_guard();
        let mark = busy.mark_thread();
        Some(ThreadGuard {
            _mark: mark,
            _busy: busy,
        })
    }
}

impl fmt::Debug for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Activity")
            .field("busy", &self.busy.load(SeqCst))
            .field("watching", &self.watching.load(SeqCst))
            .finish()
    }
}

/// Counts one thread busy while alive; see [`Activity::busy_guard`].
#[derive(Debug)]
pub struct BusyGuard(Arc<Activity>);

impl BusyGuard {
    /// Marks the calling thread as counted by this guard until the mark
    /// drops (drop it before the guard).
    pub fn mark_thread(&self) -> ThreadMark {
        let prev =
            context::with(|c| c.counted.replace(Arc::as_ptr(&self.0))).unwrap_or(ptr::null());
        ThreadMark { prev }
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// The thread-local mark of [`BusyGuard::mark_thread`].
#[derive(Debug)]
pub struct ThreadMark {
    prev: *const Activity,
}

impl Drop for ThreadMark {
    fn drop(&mut self) {
        let prev = self.prev;
        context::with(|c| c.counted.set(prev));
    }
}

/// A thread counted busy and marked; see [`Activity::thread_guard`].
#[derive(Debug)]
pub struct ThreadGuard {
    // Field order: the mark is removed before the count is released.
    _mark: ThreadMark,
    _busy: BusyGuard,
}

/// The thread-local mark of [`Activity::mark_worker`].
#[derive(Debug)]
pub struct WorkerMark {
    prev: *const Activity,
}

impl Drop for WorkerMark {
    fn drop(&mut self) {
        let prev = self.prev;
        context::with(|c| c.worker.set(prev));
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::park::{Driver, ParkThread};

    #[test]
    fn idle_signal_only_when_watching_and_reaching_zero() {
        let mut driver = ParkThread::new();
        let activity = Activity::new(driver.unparker());
        let a = activity.busy_guard();
        let b = activity.busy_guard();
        drop(a);
        assert!(!activity.is_idle());
        drop(b); // not watching: no token
        assert!(activity.is_idle());
        activity.set_watching(true);
        activity.enter();
        activity.leave(); // reaches zero while watched: token
        // The token makes an untimed park return at once.
        driver.park(None);
    }

    /// Counts unparks of the driver.
    #[derive(Default)]
    struct CountingUnpark(std::sync::atomic::AtomicUsize);

    impl crate::park::Unpark for CountingUnpark {
        fn unpark(&self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn counted() -> (Arc<Activity>, Arc<CountingUnpark>) {
        let count = Arc::new(CountingUnpark::default());
        let activity = Activity::new(Unparker::new(count.clone()));
        (activity, count)
    }

    #[test]
    fn an_owed_wake_survives_the_wake_of_a_running_thread() {
        let (activity, unparks) = counted();
        let _busy = activity.busy_guard();
        activity.defer_wake();
        // Someone unparks a thread that is running (`Parker::unpark` of an
        // EMPTY parker): its busy count is taken back, the debt stays.
        activity.enter();
        activity.undo_enter();
        assert_eq!(unparks.0.load(SeqCst), 0);
        activity.pay_owed_wake();
        assert_eq!(unparks.0.load(SeqCst), 1, "the debt was paid");
        activity.pay_owed_wake();
        assert_eq!(unparks.0.load(SeqCst), 1, "once");
    }

    #[test]
    fn leaving_pays_and_parking_on_the_driver_settles() {
        let (activity, unparks) = counted();
        activity.enter();
        activity.defer_wake();
        activity.leave();
        assert_eq!(unparks.0.load(SeqCst), 1, "leave pays");
        activity.enter();
        activity.defer_wake();
        activity.leave_quiet(); // about to park on the driver: reads the wheel
        activity.pay_owed_wake();
        assert_eq!(unparks.0.load(SeqCst), 1, "settled, nothing owed");
    }

    #[test]
    fn only_marked_threads_are_workers() {
        let (activity, _) = counted();
        assert!(!activity.is_worker_thread());
        let mark = activity.mark_worker();
        assert!(activity.is_worker_thread());
        drop(mark);
        assert!(!activity.is_worker_thread());
    }
}
