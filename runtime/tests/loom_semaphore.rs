//! Loom models of `RawSemaphore` (under `Semaphore`, `Mutex` and the
//! bounded channel): every lock-free taker against the hand-off in
//! `distribute`, close, cancellation and FIFO order, and the async `Mutex`
//! and `Semaphore` on top. Compiled as a library module under `cfg(all(test, loom))`
//! (it needs crate internals); run with
//! `RUSTFLAGS="--cfg loom" cargo test -p keen --release --lib loom`.

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use loom::sync::Arc;
use loom::thread;

use crate::loom_support::{counting_waker, poll_with};
use crate::sync::raw_semaphore::{AcquireState, Closed, RawSemaphore, TryAcquire};

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

/// A release lands while `try_acquire` runs on another thread and a waiter
/// is queued: the permit goes to the waiter, never to the late try (the
/// count is briefly non-zero with `WAITERS` set, which the fast path must
/// respect). tokio-style barging would let the try win here.
#[test]
fn loom_try_acquire_never_barges_past_a_queued_waiter() {
    loom::model(|| {
        let sem = Arc::new(RawSemaphore::new(0));
        let mut waiter = AcquireState::new(1);
        assert!(poll(&sem, &mut waiter).is_pending());
        // The try runs on the spawned thread: a failing try only loads,
        // and loom checks a later thread's load against earlier stores.
        let trier = {
            let sem = sem.clone();
            thread::spawn(move || sem.try_acquire(1))
        };
        sem.release(1);
        assert_eq!(trier.join().unwrap(), Err(TryAcquire::NoPermits), "barged");
        assert!(poll(&sem, &mut waiter).is_ready(), "the waiter got it");
        assert_eq!(sem.available(), 0);
    });
}

/// A close races a new acquire on its way into the queue: the acquire
/// fails at once or is failed (and woken) by the close, never left queued
/// on a closed semaphore; permits still come back afterwards.
#[test]
fn loom_close_racing_a_queued_acquire() {
    loom::model(|| {
        let sem = Arc::new(RawSemaphore::new(0));
        let closer = {
            let sem = sem.clone();
            thread::spawn(move || sem.close())
        };
        let (woken, waker) = counting_waker();
        let mut waiter = AcquireState::new(1);
        let first = sem.poll_acquire(&mut waiter, &mut Context::from_waker(&waker));
        closer.join().unwrap();
        if first.is_pending() {
            assert!(woken.woken(), "a queued acquire was not woken by close");
            assert_eq!(
                sem.poll_acquire(&mut waiter, &mut Context::from_waker(&waker)),
                Poll::Ready(Err(Closed))
            );
        } else {
            assert_eq!(first, Poll::Ready(Err(Closed)));
        }
        sem.release(1);
        assert_eq!(sem.available(), 1, "permits come back after close");
        assert_eq!(sem.try_acquire(1), Err(TryAcquire::Closed));
    });
}

/// `add_permits(2)` races an `acquire_many(3)` on a semaphore holding one:
/// the acquire is served (at once or by the add's hand-off, with a wake)
/// and takes all three.
#[test]
fn loom_add_permits_racing_acquire_many() {
    loom::model(|| {
        let sem = Arc::new(RawSemaphore::new(1));
        let adder = {
            let sem = sem.clone();
            thread::spawn(move || sem.release(2))
        };
        let (woken, waker) = counting_waker();
        let mut waiter = AcquireState::new(3);
        let first = sem.poll_acquire(&mut waiter, &mut Context::from_waker(&waker));
        adder.join().unwrap();
        if first.is_pending() {
            assert!(woken.woken(), "lost wake");
            assert!(
                sem.poll_acquire(&mut waiter, &mut Context::from_waker(&waker))
                    .is_ready()
            );
        }
        assert_eq!(sem.available(), 0, "all three taken");
    });
}

/// tokio #4618 / #2340 shape: two queued waiters, the first is cancelled
/// while a release hands it the one permit. The permit must reach the
/// second waiter, not stay free with the second still queued.
#[test]
fn loom_cancelled_front_waiter_passes_the_hand_off_to_the_next() {
    loom::model(|| {
        let sem = Arc::new(RawSemaphore::new(0));
        let mut first = AcquireState::new(1);
        let mut second = AcquireState::new(1);
        assert!(poll(&sem, &mut first).is_pending());
        assert!(poll(&sem, &mut second).is_pending());
        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release(1))
        };
        sem.cancel_acquire(&mut first);
        releaser.join().unwrap();
        assert!(poll(&sem, &mut second).is_ready(), "the permit was lost");
        assert_eq!(sem.available(), 0);
    });
}

/// A release races a close with a waiter queued: the permit either went
/// to the waiter before the close or is free afterwards; it is counted
/// exactly once.
#[test]
fn loom_release_racing_close_counts_the_permit_once() {
    loom::model(|| {
        let sem = Arc::new(RawSemaphore::new(0));
        let mut waiter = AcquireState::new(1);
        assert!(poll(&sem, &mut waiter).is_pending());
        let closer = {
            let sem = sem.clone();
            thread::spawn(move || sem.close())
        };
        sem.release(1);
        closer.join().unwrap();
        let granted = match poll(&sem, &mut waiter) {
            Poll::Ready(Ok(())) => 1,
            Poll::Ready(Err(Closed)) => 0,
            Poll::Pending => panic!("left queued on a closed semaphore"),
        };
        assert_eq!(granted + sem.available(), 1);
    });
}

/// Two waiters queued, a release from another thread: FIFO holds however
/// the poll of the second interleaves — whenever the second is served, the
/// first was served before it.
#[test]
fn loom_hand_off_is_fifo_under_a_racing_poll() {
    loom::model(|| {
        let sem = Arc::new(RawSemaphore::new(0));
        let mut first = AcquireState::new(1);
        let mut second = AcquireState::new(1);
        assert!(poll(&sem, &mut first).is_pending());
        assert!(poll(&sem, &mut second).is_pending());
        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release(1))
        };
        let second_ready = poll(&sem, &mut second).is_ready();
        releaser.join().unwrap();
        assert!(!second_ready, "the second waiter overtook the first");
        assert!(poll(&sem, &mut first).is_ready());
        sem.cancel_acquire(&mut second);
    });
}

/// Two lockers of the async `Mutex` on two threads: the guard is
/// exclusive (loom checks the accesses to the cell inside for races) and
/// the lock handed from one to the other wakes the waiting one.
#[test]
fn loom_mutex_guards_are_exclusive_and_the_hand_off_wakes() {
    loom::model(|| {
        let mutex = Arc::new(crate::sync::Mutex::new(loom::cell::UnsafeCell::new(0)));
        let other = {
            let mutex = mutex.clone();
            thread::spawn(move || {
                let guard = loom::future::block_on(mutex.lock());
                // SAFETY: the guard makes this the only access.
                guard.with_mut(|n| unsafe { *n += 1 });
            })
        };
        {
            let guard = loom::future::block_on(mutex.lock());
            // SAFETY: as above.
            guard.with_mut(|n| unsafe { *n += 1 });
        }
        other.join().unwrap();
        let guard = mutex.try_lock().expect("unlocked");
        // SAFETY: as above.
        assert_eq!(guard.with(|n| unsafe { *n }), 2);
    });
}

/// The holder unlocks while a waiter is queued and another thread tries
/// the lock: the lock goes to the waiter, `try_lock` never gets it.
#[test]
fn loom_mutex_try_lock_never_barges_past_a_handed_lock() {
    loom::model(|| {
        let mutex = Arc::new(crate::sync::Mutex::new(()));
        let held = mutex.try_lock().unwrap();
        let mut waiter = pin!(mutex.lock());
        assert!(poll_with(waiter.as_mut(), Waker::noop()).is_pending());
        let trier = {
            let mutex = mutex.clone();
            thread::spawn(move || mutex.try_lock().is_ok())
        };
        drop(held);
        assert!(!trier.join().unwrap(), "try_lock barged past the waiter");
        assert!(poll_with(waiter.as_mut(), Waker::noop()).is_ready());
    });
}

/// An owned permit dropped on another thread while this one waits in
/// `acquire`: the wait ends (loom reports a deadlock if the wake is lost).
#[test]
fn loom_owned_permit_dropped_elsewhere_wakes_the_waiting_acquire() {
    loom::model(|| {
        let sem = std::sync::Arc::new(crate::sync::Semaphore::new(1));
        let permit = sem.clone().try_acquire_owned().unwrap();
        let dropper = thread::spawn(move || drop(permit));
        let again = loom::future::block_on(sem.acquire()).unwrap();
        drop(again);
        dropper.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

/// A grant removes the waiter's node at once (its key may be handed to the
/// next waiter) and the waiter learns of it from its ticket, without the
/// lock. A new waiter queuing while the release runs, possibly on the
/// freed key, is neither served first nor taken for the old one.
#[test]
fn loom_a_reused_key_is_not_taken_for_a_served_ticket() {
    loom::model(|| {
        let sem = Arc::new(RawSemaphore::new(0));
        let mut old = AcquireState::new(1);
        assert!(poll(&sem, &mut old).is_pending());
        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release(1))
        };
        let mut new = AcquireState::new(1);
        let new_ready = poll(&sem, &mut new).is_ready();
        let old_ready = poll(&sem, &mut old).is_ready();
        releaser.join().unwrap();
        assert!(!new_ready, "the new waiter was served before the old one");
        assert!(old_ready || poll(&sem, &mut old).is_ready());
        assert!(poll(&sem, &mut new).is_pending(), "one permit, served once");
        sem.release(1);
        assert!(poll(&sem, &mut new).is_ready());
        assert_eq!(sem.available(), 0);
    });
}
