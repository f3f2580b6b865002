//! Loom models of `Notify` (a state word of PERMIT, WAITING and a
//! `notify_waiters` call count, and a `WaitList` under a lock):
//! `notify_waiters` stores nothing and loses no concurrent `notify_one`
//! permit, a `notify_one` that chose a `Notified` being dropped passes
//! on, `notify_waiters` reaches every `Notified` created before it
//! (polled, enabled or neither), and no interleaving loses a wake. Run
//! with `RUSTFLAGS="--cfg loom --cfg crossbeam_loom"
//! LOOM_MAX_PREEMPTIONS=2 cargo test -p keen --release --lib loom_notify`.

use std::pin::pin;
use std::sync::atomic::Ordering::SeqCst;
use std::task::Poll;

use loom::sync::Arc;
use loom::sync::atomic::AtomicBool;
use loom::thread;

use crate::loom_support::{counting_waker, poll_once, poll_with};
use crate::sync::Notify;

/// Whether a fresh `Notified` completes at once (a permit is stored); it
/// takes the permit if so.
fn permit_stored(notify: &Notify) -> bool {
    pin!(notify.notified()).as_mut().enable()
}

/// `notify_one` and `notify_waiters` race with nobody waiting: the permit
/// is stored whatever the order (`notify_waiters` neither clears nor adds
/// one), and exactly one.
#[test]
fn loom_notify_waiters_stores_nothing_and_keeps_a_concurrent_permit() {
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let all = {
            let notify = notify.clone();
            thread::spawn(move || notify.notify_waiters())
        };
        notify.notify_one();
        all.join().unwrap();
        assert!(permit_stored(&notify), "the notify_one permit was lost");
        assert!(!permit_stored(&notify), "more than one permit");
    });
}

/// A `Notified` created (not polled) before a `notify_waiters` that races
/// a `notify_one` on another thread: the `Notified` completes when polled
/// later, without taking the permit, which stays stored for the next one.
#[test]
fn loom_unpolled_notified_is_reached_and_the_permit_survives() {
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let early = notify.notified();
        let (all, one) = {
            let (a, b) = (notify.clone(), notify.clone());
            (
                thread::spawn(move || a.notify_waiters()),
                thread::spawn(move || b.notify_one()),
            )
        };
        all.join().unwrap();
        one.join().unwrap();
        assert!(
            poll_once(pin!(early)).is_ready(),
            "created before notify_waiters"
        );
        assert!(permit_stored(&notify), "the notify_one permit was lost");
        assert!(!permit_stored(&notify));
    });
}

/// Two queued waiters; a `notify_one` races the first one being dropped.
/// If it chose the first, the drop passes it to the second; if it came
/// after the drop, it chose the second directly: the second is notified
/// either way, and nothing is left over.
#[test]
fn loom_dropped_chosen_notified_passes_it_on() {
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let mut first = Box::pin(notify.notified());
        let mut second = pin!(notify.notified());
        assert!(!first.as_mut().enable());
        assert!(!second.as_mut().enable());
        let one = {
            let notify = notify.clone();
            thread::spawn(move || notify.notify_one())
        };
        drop(first);
        one.join().unwrap();
        assert!(
            second.as_mut().enable(),
            "the notification was lost in the drop"
        );
        assert!(!permit_stored(&notify), "one notification, delivered once");
    });
}

/// The only waiter is dropped while a `notify_one` chooses it: the
/// notification goes back into the permit.
#[test]
fn loom_dropped_only_waiter_returns_the_permit() {
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let mut only = Box::pin(notify.notified());
        assert!(!only.as_mut().enable());
        let one = {
            let notify = notify.clone();
            thread::spawn(move || notify.notify_one())
        };
        drop(only);
        one.join().unwrap();
        assert!(
            permit_stored(&notify),
            "the notification was lost in the drop"
        );
    });
}

/// `enable` of a `Notified` created before the race, against
/// `notify_waiters`: it completes (at `enable` or later), whichever runs
/// first; and a `notify_waiters` wake-up is not passed on when dropped.
#[test]
fn loom_enable_racing_notify_waiters() {
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let mut early = pin!(notify.notified());
        let all = {
            let notify = notify.clone();
            thread::spawn(move || notify.notify_waiters())
        };
        let at_enable = early.as_mut().enable();
        all.join().unwrap();
        assert!(
            at_enable || early.as_mut().enable(),
            "notify_waiters missed it"
        );
        assert!(!permit_stored(&notify), "notify_waiters stored a permit");
    });
}

/// A `Notified` is created and polled (with a counting waker) while
/// another thread calls `notify_waiters`. If the call saw the creation
/// (the thread read the flag set after it), the future completes: at the
/// first poll, or it was woken and completes when polled again.
#[test]
fn loom_notify_waiters_after_creation_always_wakes() {
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let created = Arc::new(AtomicBool::new(false));
        let all = {
            let (notify, created) = (notify.clone(), created.clone());
            thread::spawn(move || {
                let after_creation = created.load(SeqCst);
                notify.notify_waiters();
                after_creation
            })
        };
        let mut waiting = pin!(notify.notified());
        created.store(true, SeqCst);
        let (count, waker) = counting_waker();
        let first = poll_with(waiting.as_mut(), &waker);
        let after_creation = all.join().unwrap();
        if after_creation {
            assert!(first.is_ready() || count.get() == 1, "lost wake");
            assert!(poll_with(waiting.as_mut(), &waker).is_ready());
        }
        if first.is_pending() && count.get() == 1 {
            assert!(
                poll_with(waiting.as_mut(), &waker).is_ready(),
                "woken for nothing"
            );
        }
    });
}

/// A waiter polls (registering its waker) while `notify_one` runs: it
/// completes at once (the permit) or is woken and then completes, and the
/// one notification is delivered once.
#[test]
fn loom_notify_one_racing_a_first_poll_never_loses_the_wake() {
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let one = {
            let notify = notify.clone();
            thread::spawn(move || notify.notify_one())
        };
        let (count, waker) = counting_waker();
        let mut waiting = pin!(notify.notified());
        let first = poll_with(waiting.as_mut(), &waker);
        one.join().unwrap();
        if first.is_pending() {
            assert_eq!(count.get(), 1, "lost wake");
            assert!(poll_with(waiting.as_mut(), &waker).is_ready());
        }
        assert!(!permit_stored(&notify), "delivered twice");
    });
}

/// Two `notify_one`s on two threads and two queued waiters: both waiters
/// are notified and no permit is left.
#[test]
fn loom_two_notify_ones_reach_two_waiters() {
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let mut a = pin!(notify.notified());
        let mut b = pin!(notify.notified());
        assert_eq!(poll_once(a.as_mut()), Poll::Pending);
        assert_eq!(poll_once(b.as_mut()), Poll::Pending);
        let threads =
            [notify.clone(), notify.clone()].map(|n| thread::spawn(move || n.notify_one()));
        for t in threads {
            t.join().unwrap();
        }
        assert!(a.as_mut().enable() && b.as_mut().enable());
        assert!(!permit_stored(&notify));
    });
}
