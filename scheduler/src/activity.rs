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

use std::fmt;
use std::sync::Arc;

use crate::loom::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::park::Unparker;

/// The busy-thread count of one runtime.
pub struct Activity {
    busy: AtomicUsize,
    watching: AtomicBool,
    unparker: Unparker,
}

impl Activity {
    /// A count of zero whose idle signal unparks `driver`.
    pub fn new(driver: Unparker) -> Arc<Activity> {
        Arc::new(Activity {
            busy: AtomicUsize::new(0),
            watching: AtomicBool::new(false),
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
        if self.busy.fetch_sub(1, SeqCst) == 1 && self.watching.load(SeqCst) {
            self.unparker.unpark();
        }
    }

    /// As [`leave`](Self::leave), without the signal: for the thread that
    /// parks on the driver and so checks idleness itself.
    pub fn leave_quiet(&self) {
        self.busy.fetch_sub(1, SeqCst);
    }

    /// Whether no thread is busy.
    pub fn is_idle(&self) -> bool {
        self.busy.load(SeqCst) == 0
    }

    /// Turns the idle signal on (a paused clock) or off.
    pub fn set_watching(&self, watching: bool) {
        self.watching.store(watching, SeqCst);
    }

    /// Counts the calling thread busy until the guard drops.
    pub fn busy_guard(self: &Arc<Self>) -> BusyGuard {
        self.enter();
        BusyGuard(self.clone())
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

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.leave();
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
}
