//! Loom models of parking: no wake is lost between "queue empty" and
//! "parked". Compiled as a library module under `cfg(all(test, loom))`
//! (it needs crate internals); see `loom_task.rs` for how to run it.

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

use crate::flavors::multi_thread::idle::Idle;
use crate::park::{ParkThread, Parker, SharedDriver};

#[test]
fn loom_unpark_reaches_driver_and_condvar_parkers() {
    loom::model(|| {
        // Two workers share one driver: one parks on it, the other on its
        // condvar, in whichever order loom picks. Both must wake.
        let driver = SharedDriver::new(Box::new(ParkThread::new()));
        let a = Parker::new(driver.clone());
        let b = Parker::new(driver);
        let (ua, ub) = (a.clone(), b.clone());
        let ta = thread::spawn(move || a.park(None));
        let tb = thread::spawn(move || b.park(None));
        ua.unpark();
        ub.unpark();
        ta.join().unwrap();
        tb.join().unwrap();
    });
}

#[test]
fn loom_unpark_before_park_is_kept() {
    loom::model(|| {
        let parker = Parker::new(SharedDriver::new(Box::new(ParkThread::new())));
        let unparker = parker.clone();
        let t = thread::spawn(move || unparker.unpark());
        parker.park(None); // returns whether the unpark came first or not
        t.join().unwrap();
    });
}

#[test]
fn loom_an_unpark_racing_a_park_leaves_the_thread_counted_busy() {
    loom::model(|| {
        // The thread is counted busy; an unpark from another thread races
        // its park (the fast path for a running thread against the slow
        // one for a parked thread). Whichever wins, the park returns with
        // the thread counted busy again, and the count never stays raised.
        let driver = SharedDriver::new(Box::new(ParkThread::new()));
        let activity = driver.activity().clone();
        let busy = activity.busy_guard();
        let parker = Parker::new(driver);
        let unparker = parker.clone();
        let t = thread::spawn(move || unparker.unpark());
        parker.park(None);
        assert!(!activity.is_idle(), "back from park, still counted");
        t.join().unwrap();
        drop(busy);
        assert!(activity.is_idle(), "no busy count left behind");
    });
}

#[test]
fn loom_idle_handshake_loses_no_work() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(1));
        let queue = Arc::new(AtomicUsize::new(0));
        let (i2, q2) = (idle.clone(), queue.clone());
        // A scheduler pushes one task, then looks for a worker to wake.
        let scheduler = thread::spawn(move || {
            q2.fetch_add(1, SeqCst);
            i2.worker_to_notify().is_some()
        });
        // The worker registers as idle, then checks the queue once more.
        idle.park(0, false);
        let saw_work = queue.load(SeqCst) > 0;
        let notified = scheduler.join().unwrap();
        assert!(
            saw_work || notified,
            "the task was queued with every worker asleep"
        );
    });
}
