//! Loom models of `oneshot`: send, close, receive and drop from two threads
//! in every interleaving. The value is delivered or handed back, never both
//! and never lost; it is dropped exactly once; a waiting receiver or
//! `Sender::closed` is always woken. (RUSTSEC-2021-0124 was a data race in
//! tokio's oneshot after `close`; keen's state is under one lock, and these
//! models check that lock's hand-offs.) Compiled as a library module under
//! `cfg(all(test, loom))`; see `loom_semaphore.rs` for how to run it.

use std::pin::pin;
use std::task::{Context, Poll};

use loom::thread;

use crate::loom_support::{Dropped, counting_waker, poll_with};
use crate::sync::oneshot::{self, error::TryRecvError};

/// A send on another thread races the receiver's first poll: the poll sees
/// the value, or registers its waker and is woken.
#[test]
fn loom_oneshot_send_racing_recv_wakes_the_receiver() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(7).unwrap());
        let (woken, waker) = counting_waker();
        let mut rx = pin!(rx);
        let first = poll_with(rx.as_mut(), &waker);
        sender.join().unwrap();
        match first {
            Poll::Ready(value) => assert_eq!(value, Ok(7)),
            Poll::Pending => {
                assert!(woken.woken(), "lost wake");
                assert_eq!(poll_with(rx.as_mut(), &waker), Poll::Ready(Ok(7)));
            }
        }
    });
}

/// The sender is dropped unsent while the receiver polls: the receiver
/// ends with `RecvError`, woken if it was already waiting.
#[test]
fn loom_oneshot_sender_drop_racing_recv_ends_the_receiver() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let dropper = thread::spawn(move || drop(tx));
        let (woken, waker) = counting_waker();
        let mut rx = pin!(rx);
        let first = poll_with(rx.as_mut(), &waker);
        dropper.join().unwrap();
        let out = match first {
            Poll::Ready(out) => out,
            Poll::Pending => {
                assert!(woken.woken(), "lost wake");
                let Poll::Ready(out) = poll_with(rx.as_mut(), &waker) else {
                    panic!("still pending with the sender gone");
                };
                out
            }
        };
        assert!(out.is_err());
    });
}

/// A send races the receiver's drop: the value is either handed back to
/// the sender or dropped with the receiver, exactly once either way.
#[test]
fn loom_oneshot_send_racing_receiver_drop_drops_the_value_once() {
    loom::model(|| {
        let drops = Dropped::default();
        let (tx, rx) = oneshot::channel();
        let value = drops.token();
        let sender = thread::spawn(move || tx.send(value).is_ok());
        drop(rx);
        let sent = sender.join().unwrap();
        assert_eq!(drops.get(), 1, "dropped once (sent: {sent})");
    });
}

/// `Receiver::close` races a send: the send fails exactly when the close
/// came first, and a value sent before the close is still received.
#[test]
fn loom_oneshot_close_racing_send() {
    loom::model(|| {
        let (tx, mut rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(1).is_ok());
        rx.close();
        let sent = sender.join().unwrap();
        match rx.try_recv() {
            Ok(value) => {
                assert!(sent);
                assert_eq!(value, 1);
            }
            Err(TryRecvError::Closed) => assert!(!sent, "a sent value was lost"),
            Err(TryRecvError::Empty) => panic!("closed and empty is Closed"),
        }
    });
}

/// Awaiting the receiver after `close` while a send races: it yields the
/// value exactly when the send succeeded, and never waits (no sender can
/// come after a close).
#[test]
fn loom_oneshot_poll_after_close_racing_send() {
    loom::model(|| {
        let drops = Dropped::default();
        let (tx, mut rx) = oneshot::channel();
        let value = drops.token();
        let sender = thread::spawn(move || tx.send(value).is_ok());
        rx.close();
        let (_, waker) = counting_waker();
        let mut rx = pin!(rx);
        let got = match poll_with(rx.as_mut(), &waker) {
            Poll::Ready(Ok(token)) => {
                drop(token);
                true
            }
            Poll::Ready(Err(_)) => false,
            Poll::Pending => panic!("a closed receiver waited"),
        };
        let sent = sender.join().unwrap();
        assert_eq!(
            got, sent,
            "a sent value was lost or a failed send delivered"
        );
        assert_eq!(drops.get(), 1);
    });
}

/// `Sender::closed` waits while the receiver is dropped on another thread:
/// it completes, woken if it was already waiting.
#[test]
fn loom_oneshot_sender_closed_racing_receiver_drop() {
    loom::model(|| {
        let (mut tx, rx) = oneshot::channel::<u8>();
        let dropper = thread::spawn(move || drop(rx));
        let (woken, waker) = counting_waker();
        let first = tx.poll_closed(&mut Context::from_waker(&waker));
        dropper.join().unwrap();
        if first.is_pending() {
            assert!(woken.woken(), "lost wake");
            assert!(tx.poll_closed(&mut Context::from_waker(&waker)).is_ready());
        }
        assert!(tx.is_closed());
    });
}

/// The receiver takes the value (`try_recv`) and is dropped while the send
/// runs: the value is taken or dropped exactly once, and a successful take
/// means the send succeeded.
#[test]
fn loom_oneshot_try_recv_then_drop_racing_send() {
    loom::model(|| {
        let drops = Dropped::default();
        let (tx, mut rx) = oneshot::channel();
        let value = drops.token();
        let sender = thread::spawn(move || tx.send(value).is_ok());
        let took = rx.try_recv().map(drop).is_ok();
        drop(rx);
        let sent = sender.join().unwrap();
        assert!(!took || sent);
        assert_eq!(drops.get(), 1);
    });
}
