//! Loom models of the timer driver (`TimeShared` over the timer wheel):
//! a timer inserted, cancelled, moved (`reset`) or dropped on one thread
//! while another fires the wheel (each timer fires once or is cancelled,
//! never both, never neither), a `Sleep` polled while it fires (done, or
//! woken), and the wake-the-parked-driver handshake through
//! `parked_until`. The clock is paused, so ticks are the model's choice.
//! Compiled as a library module under `cfg(all(test, loom))`; see
//! `loom_semaphore.rs` for how to run it.

use std::sync::Arc;
use std::task::Context;
use std::time::Duration;

use keen_scheduler::park::{Driver, ParkThread};
use loom::thread;

use crate::loom_support::counting_waker;
use crate::time::Instant;
use crate::time::driver::{TimeDriver, TimeShared};

/// A driver on a paused clock standing at tick 0, and its shared state.
fn driver() -> (TimeDriver, Arc<TimeShared>) {
    let driver = TimeDriver::new(true, Box::new(ParkThread::new()));
    let shared = driver.shared().clone();
    (driver, shared)
}

/// Fires everything due by tick `now` on another thread.
fn fire_on_another_thread(shared: &Arc<TimeShared>, now: u64) -> thread::JoinHandle<bool> {
    let shared = shared.clone();
    thread::spawn(move || shared.process(now))
}

/// A timer is inserted while the driver fires past its tick: it fires in
/// that batch or stays in the wheel for the next one (due at once), and
/// fires exactly once.
#[test]
fn loom_timer_insert_racing_fire() {
    loom::model(|| {
        let (_driver, shared) = driver();
        let firer = fire_on_another_thread(&shared, 5);
        let (woken, waker) = counting_waker();
        shared.insert(3, waker, None);
        firer.join().unwrap();
        if !woken.woken() {
            assert_eq!(shared.len(), 1, "neither fired nor kept");
            shared.process(5);
        }
        assert_eq!(woken.get(), 1, "fired once");
        assert_eq!(shared.len(), 0);
    });
}

/// A timer is cancelled while the driver fires it: exactly one of the two
/// wins (the cancel gets the waker back, or the driver wakes it).
#[test]
fn loom_timer_cancel_racing_fire() {
    loom::model(|| {
        let (_driver, shared) = driver();
        let (woken, waker) = counting_waker();
        let key = shared.insert(3, waker, None);
        let firer = fire_on_another_thread(&shared, 5);
        let removed = shared.remove(key);
        firer.join().unwrap();
        assert_ne!(removed.is_some(), woken.woken(), "both or neither");
        drop(removed);
        assert_eq!(shared.len(), 0);
    });
}

/// A timer is moved later (`reset`) from another thread while the driver
/// fires its old tick: either the reset finds it live (and it fires at the
/// new tick only) or it already fired (and the reset says so).
#[test]
fn loom_timer_reset_racing_fire() {
    loom::model(|| {
        let (_driver, shared) = driver();
        let (woken, waker) = counting_waker();
        let key = shared.insert(3, waker, None);
        let firer = fire_on_another_thread(&shared, 5);
        let live = shared.reset(key, 10);
        firer.join().unwrap();
        if live {
            assert!(!woken.woken(), "fired at the old tick after the reset");
            shared.process(9);
            assert!(!woken.woken());
            shared.process(10);
        }
        assert_eq!(woken.get(), 1, "fired once");
    });
}

/// A `Sleep` polled again while the driver fires it: the poll is ready
/// (and `is_elapsed` agrees), or it stays pending and is woken.
#[test]
fn loom_sleep_polled_while_it_fires_is_done_or_woken() {
    loom::model(|| {
        let (_driver, shared) = driver();
        let now = shared.clock().now();
        let at = Instant::from_std(now) + Duration::from_millis(3);
        // Fired two ticks past the deadline's tick, whatever a tick is.
        let past = shared.clock().deadline_tick(at.into_std()) + 2;
        let mut sleep = crate::time::sleep_until(at);
        let (woken, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(
            sleep
                .register_with(shared.clone(), now, &mut cx)
                .is_pending()
        );
        let firer = fire_on_another_thread(&shared, past);
        let first = sleep.poll_deadline(&mut cx);
        firer.join().unwrap();
        if first.is_pending() {
            assert!(woken.woken(), "lost wake");
            assert!(sleep.poll_deadline(&mut cx).is_ready());
        }
        assert!(sleep.is_elapsed(), "ready but not elapsed");
    });
}

/// A `Sleep` dropped while the driver fires it: its entry is gone either
/// way, and it is woken at most once.
#[test]
fn loom_sleep_dropped_while_it_fires() {
    loom::model(|| {
        let (_driver, shared) = driver();
        let now = shared.clock().now();
        let at = Instant::from_std(now) + Duration::from_millis(3);
        // Fired two ticks past the deadline's tick, whatever a tick is.
        let past = shared.clock().deadline_tick(at.into_std()) + 2;
        let mut sleep = crate::time::sleep_until(at);
        let (woken, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(
            sleep
                .register_with(shared.clone(), now, &mut cx)
                .is_pending()
        );
        let firer = fire_on_another_thread(&shared, past);
        drop(sleep);
        firer.join().unwrap();
        assert!(woken.get() <= 1);
        assert_eq!(shared.len(), 0, "a dropped sleep left its entry");
    });
}

/// The driver thread parks (paused clock, nothing due) while another
/// thread inserts a timer: the driver wakes (loom reports a deadlock if
/// the `parked_until` handshake loses the wake), either because it saw the
/// timer before parking or because the insert unparked it.
#[test]
fn loom_insert_wakes_the_parked_driver() {
    loom::model(|| {
        let (mut driver, shared) = driver();
        let parked = thread::spawn(move || {
            driver.park(None);
            driver
        });
        let (_woken, waker) = counting_waker();
        shared.insert(3, waker, None);
        let driver = parked.join().unwrap();
        drop(driver);
    });
}
