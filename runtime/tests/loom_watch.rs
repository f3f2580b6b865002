//! Loom models of `watch` (a state word of version and CLOSED bumped under
//! the value's write lock, and waiter lists under a mutex): a send racing
//! `changed` is never missed and never reported when nothing changed, a
//! version that `changed` reports is always readable, the end is reported
//! only after the last value was seen, a borrow's `has_changed` always
//! matches the value it reads, and the last receiver's drop wakes
//! `Sender::closed`. Run with `RUSTFLAGS="--cfg loom --cfg crossbeam_loom"
//! LOOM_MAX_PREEMPTIONS=2 cargo test -p keen --release --lib loom_watch`.

use std::pin::pin;
use std::task::Poll;

use loom::future::block_on;
use loom::thread;

use crate::loom_support::{counting_waker, poll_once, poll_with};
use crate::sync::watch;

/// `changed` is polled (counting waker) while a send runs: it completes
/// at once or is woken, the value it announces is the new one, and once
/// that is seen `changed` waits again.
#[test]
fn loom_send_racing_changed_is_never_missed_nor_spurious() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        let (count, waker) = counting_waker();
        {
            let mut changed = Box::pin(rx.changed());
            let first = poll_with(changed.as_mut(), &waker);
            let _tx = sender.join().unwrap();
            if first.is_pending() {
                assert_eq!(count.get(), 1, "lost wake");
                assert!(matches!(
                    poll_with(changed.as_mut(), &waker),
                    Poll::Ready(Ok(()))
                ));
            } else {
                assert!(matches!(first, Poll::Ready(Ok(()))));
            }
            drop(changed);
            assert_eq!(*rx.borrow_and_update(), 1, "changed announced an old value");
            assert!(
                poll_once(pin!(rx.changed())).is_pending(),
                "spurious change"
            );
        }
    });
}

/// Two sends race a receiver that waits, reads and waits again: every
/// `Ok` from `changed` comes with a newer value to read, and the last
/// value is always reached.
#[test]
fn loom_changed_ok_means_a_newer_value_is_readable() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
            tx
        });
        block_on(rx.changed()).unwrap();
        let first = *rx.borrow_and_update();
        assert!(first >= 1, "changed said Ok, the value is old");
        if first == 1 {
            block_on(rx.changed()).unwrap();
            assert_eq!(*rx.borrow_and_update(), 2);
        }
        let _tx = sender.join().unwrap();
        assert!(!rx.has_changed().unwrap());
    });
}

/// The sender sends and is dropped while the receiver loops on
/// `changed`: `Err` comes only after the last value was seen.
#[test]
fn loom_sender_drop_racing_changed_ends_after_the_last_value() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            drop(tx);
        });
        let mut last = 0;
        while block_on(rx.changed()).is_ok() {
            last = *rx.borrow_and_update();
        }
        assert_eq!(last, 1, "the end was reported before the last value");
        sender.join().unwrap();
    });
}

/// `send_modify` races `borrow_and_update`: the `has_changed` of the
/// borrow always matches the value it reads (the version and the value
/// change together), and what is not yet seen is announced later.
#[test]
fn loom_send_modify_racing_borrow_is_consistent() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || {
            tx.send_modify(|v| *v += 1);
            tx
        });
        let (changed, value) = {
            let seen = rx.borrow_and_update();
            (seen.has_changed(), *seen)
        };
        assert_eq!(changed, value == 1, "has_changed does not match the value");
        if value == 0 {
            block_on(rx.changed()).unwrap();
            assert_eq!(*rx.borrow_and_update(), 1);
        }
        let _tx = sender.join().unwrap();
        assert!(poll_once(pin!(rx.changed())).is_pending());
    });
}

/// One send wakes two receivers waiting on two threads.
#[test]
fn loom_one_send_wakes_every_waiting_receiver() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let mut rx2 = rx.clone();
        let other = thread::spawn(move || {
            block_on(rx2.changed()).unwrap();
            *rx2.borrow_and_update()
        });
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow_and_update(), 1);
        assert_eq!(other.join().unwrap(), 1);
        let _tx = sender.join().unwrap();
    });
}

/// `Sender::closed` is polled while the last receiver is dropped: it
/// completes at once or is woken, and a later send fails.
#[test]
fn loom_last_receiver_drop_wakes_closed() {
    loom::model(|| {
        let (tx, rx) = watch::channel(0);
        let receiver = thread::spawn(move || drop(rx));
        let (count, waker) = counting_waker();
        let mut closed = pin!(tx.closed());
        let first = poll_with(closed.as_mut(), &waker);
        receiver.join().unwrap();
        if first.is_pending() {
            assert_eq!(count.get(), 1, "lost wake");
            assert!(poll_with(closed.as_mut(), &waker).is_ready());
        }
        assert!(tx.send(1).is_err());
    });
}
