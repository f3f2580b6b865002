//! Loom models of `Event` and `Condition`: a `set` racing a wait never
//! loses the wake, and a `Condition` notification that meets a cancelled
//! waiter (queued, notified, or notified and re-locking the mutex) goes to
//! the next waiter. Compiled as a library module under
//! `cfg(all(test, loom))`; see `loom_semaphore.rs` for how to run it.

use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use loom::thread;

use crate::loom_support::{counting_waker, poll_with};
use crate::sync::{Condition, Event, Mutex};

/// `set` on another thread races a wait's first poll: the wait is ready at
/// once or queued and woken.
#[test]
fn loom_event_set_racing_wait_never_loses_the_wake() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let setter = {
            let event = event.clone();
            thread::spawn(move || event.set())
        };
        let (woken, waker) = counting_waker();
        let mut wait = pin!(event.wait());
        let first = poll_with(wait.as_mut(), &waker);
        setter.join().unwrap();
        if first.is_pending() {
            assert!(woken.woken(), "lost wake");
            assert!(poll_with(wait.as_mut(), &waker).is_ready());
        }
    });
}

/// Two setters race with a waiter queued and a second one arriving: both
/// waits end, and the queued one is woken exactly once.
#[test]
fn loom_event_two_setters_wake_each_waiter_once() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let (queued_woken, queued_waker) = counting_waker();
        let mut queued = pin!(event.wait());
        assert!(poll_with(queued.as_mut(), &queued_waker).is_pending());
        let setters: Vec<_> = (0..2)
            .map(|_| {
                let event = event.clone();
                thread::spawn(move || event.set())
            })
            .collect();
        let (late_woken, late_waker) = counting_waker();
        let mut late = pin!(event.wait());
        let late_first = poll_with(late.as_mut(), &late_waker);
        for setter in setters {
            setter.join().unwrap();
        }
        assert_eq!(queued_woken.get(), 1, "woken once");
        assert!(poll_with(queued.as_mut(), &queued_waker).is_ready());
        if late_first.is_pending() {
            assert_eq!(late_woken.get(), 1);
            assert!(poll_with(late.as_mut(), &late_waker).is_ready());
        }
    });
}

/// A queued wait is dropped while `set` grants it: nothing panics or
/// leaks, and a new wait is ready.
#[test]
fn loom_event_wait_dropped_while_set_grants_it() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let mut wait = Box::pin(event.wait());
        assert!(poll_with(wait.as_mut(), &counting_waker().1).is_pending());
        let setter = {
            let event = event.clone();
            thread::spawn(move || event.set())
        };
        drop(wait);
        setter.join().unwrap();
        assert!(poll_with(pin!(event.wait()), &counting_waker().1).is_ready());
    });
}

/// Two waiters on a `Condition`; the first is cancelled (still queued)
/// while `notify_one` runs on another thread: the notification reaches the
/// second, whichever came first.
#[test]
fn loom_condition_notify_racing_a_cancelled_wait_goes_to_the_next() {
    loom::model(|| {
        let mutex = Mutex::new(());
        let condition = Arc::new(Condition::new());
        let (_, waker) = counting_waker();
        let mut first = Box::pin(condition.wait(mutex.try_lock().unwrap()));
        assert!(poll_with(first.as_mut(), &waker).is_pending());
        let (second_woken, second_waker) = counting_waker();
        let mut second = pin!(condition.wait(mutex.try_lock().unwrap()));
        assert!(poll_with(second.as_mut(), &second_waker).is_pending());
        let notifier = {
            let condition = condition.clone();
            thread::spawn(move || condition.notify_one())
        };
        drop(first);
        assert!(notifier.join().unwrap(), "a waiter was queued");
        assert!(second_woken.woken(), "the notification was lost");
        assert!(matches!(
            poll_with(second.as_mut(), &second_waker),
            Poll::Ready(_)
        ));
    });
}

/// The first waiter is notified and cancelled while it waits to re-lock
/// the mutex (held by this thread): its notification passes to the
/// second waiter.
#[test]
fn loom_condition_notified_wait_cancelled_while_relocking_passes_it_on() {
    loom::model(|| {
        let mutex = Mutex::new(());
        let condition = Arc::new(Condition::new());
        let (_, waker) = counting_waker();
        let mut first = Box::pin(condition.wait(mutex.try_lock().unwrap()));
        assert!(poll_with(first.as_mut(), &waker).is_pending());
        let (second_woken, second_waker) = counting_waker();
        let mut second = pin!(condition.wait(mutex.try_lock().unwrap()));
        assert!(poll_with(second.as_mut(), &second_waker).is_pending());
        let held = mutex.try_lock().unwrap();
        let notifier = {
            let condition = condition.clone();
            thread::spawn(move || condition.notify_one())
        };
        // Notified by now or not: either way it cannot get the mutex.
        assert!(poll_with(first.as_mut(), &waker).is_pending());
        drop(first);
        drop(held);
        notifier.join().unwrap();
        assert!(second_woken.woken(), "the notification was lost");
        assert!(matches!(
            poll_with(second.as_mut(), &second_waker),
            Poll::Ready(_)
        ));
    });
}
