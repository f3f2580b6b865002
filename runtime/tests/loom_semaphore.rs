//! Loom models of `RawSemaphore` (under `Semaphore`, `Mutex` and the
//! bounded channel): every lock-free taker against the hand-off in
//! `distribute`. Compiled as a library module under `cfg(all(test, loom))`
//! (it needs crate internals); run with
//! `RUSTFLAGS="--cfg loom" cargo test -p keen --release --lib loom`.

use std::task::{Context, Poll, Waker};

use loom::sync::Arc;
use loom::thread;

use crate::sync::raw_semaphore::{AcquireState, Closed, RawSemaphore};

fn poll(sem: &RawSemaphore, acquire: &mut AcquireState) -> Poll<Result<(), Closed>> {
    sem.poll_acquire(acquire, &mut Context::from_waker(Waker::noop()))
}

/// A release hands the one permit to a queued waiter while another thread
/// forgets a permit (lock-free, whatever `WAITERS` says). Exactly one of
/// them gets it, and the count never wraps. Before `distribute` took
/// permits with a compare-exchange, loom finds the interleaving where the
/// forget lands between its read and its subtraction.
#[test]
fn loom_forget_racing_a_hand_off() {
    loom::model(|| {
        let sem = Arc::new(RawSemaphore::new(1));
        sem.try_acquire(1).unwrap();
        let mut waiter = AcquireState::new(1);
        assert!(poll(&sem, &mut waiter).is_pending());
        let forgetter = {
            let sem = sem.clone();
            thread::spawn(move || sem.forget(1))
        };
        sem.release(1);
        let forgot = forgetter.join().unwrap();
        let granted = poll(&sem, &mut waiter).is_ready();
        assert_eq!(forgot + usize::from(granted), 1, "the permit went once");
        assert_eq!(sem.available(), 0);
        if !granted {
            sem.cancel_acquire(&mut waiter);
        }
    });
}

/// A waiter queuing (its own `distribute` under the lock) while a forget
/// takes the permit it is about to be granted.
#[test]
fn loom_forget_racing_a_new_waiter() {
    loom::model(|| {
        let sem = Arc::new(RawSemaphore::new(1));
        let forgetter = {
            let sem = sem.clone();
            thread::spawn(move || sem.forget(1))
        };
        let mut waiter = AcquireState::new(1);
        let granted = poll(&sem, &mut waiter).is_ready();
        let forgot = forgetter.join().unwrap();
        assert_eq!(forgot + usize::from(granted), 1);
        assert_eq!(sem.available(), 0);
        if !granted {
            sem.cancel_acquire(&mut waiter);
        }
    });
}

/// A waiter cancelled while a release hands it the permit: the permit is
/// passed on or stays free, never lost.
#[test]
fn loom_cancelled_waiter_racing_a_hand_off() {
    loom::model(|| {
        let sem = Arc::new(RawSemaphore::new(0));
        let mut waiter = AcquireState::new(1);
        assert!(poll(&sem, &mut waiter).is_pending());
        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release(1))
        };
        sem.cancel_acquire(&mut waiter);
        releaser.join().unwrap();
        assert_eq!(sem.available(), 1, "the handed-off permit came back");
        assert_eq!(sem.try_acquire(1), Ok(()), "and nobody is queued");
    });
}
