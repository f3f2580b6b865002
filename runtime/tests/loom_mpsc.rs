//! Loom models of the `mpsc` channels: a full bounded queue whose waiting
//! sender is cancelled while a receive frees a slot (the slot reaches the
//! next sender), a waiting sender woken by a receive or failed by a close,
//! unbounded sends racing `close` (each message delivered or handed back),
//! and receives racing the last sender's drop (every message before the
//! `None`). Compiled as a library module under `cfg(all(test, loom))`; see
//! `loom_semaphore.rs` for how to run it.

use std::pin::pin;
use std::task::Poll;

use loom::thread;

use crate::loom_support::{Dropped, counting_waker, poll_with};
use crate::sync::mpsc::{self, error::TryRecvError};

/// Capacity 1, full; two sends wait for the slot. A receive on another
/// thread frees it while the first waiting send is dropped: the slot is
/// passed to the second send, not lost.
#[test]
fn loom_mpsc_cancelled_sender_passes_the_freed_slot_on() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let mut first = Box::pin(tx.send(1));
        let mut second = pin!(tx.send(2));
        let (_, waker) = counting_waker();
        assert!(poll_with(first.as_mut(), &waker).is_pending());
        assert!(poll_with(second.as_mut(), &waker).is_pending());
        let receiver = thread::spawn(move || {
            assert_eq!(rx.try_recv(), Ok(0));
            rx
        });
        drop(first);
        let mut rx = receiver.join().unwrap();
        assert_eq!(
            poll_with(second.as_mut(), &waker),
            Poll::Ready(Ok(())),
            "the freed slot was lost with the cancelled send"
        );
        assert_eq!(rx.try_recv(), Ok(2));
    });
}

/// Capacity 1, full; a send starts while a receive on another thread frees
/// the slot: it is served at once or woken with the slot.
#[test]
fn loom_mpsc_send_waiting_for_capacity_is_woken_by_recv() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let receiver = thread::spawn(move || {
            assert_eq!(rx.try_recv(), Ok(0));
            rx
        });
        let (woken, waker) = counting_waker();
        let mut send = pin!(tx.send(1));
        let first = poll_with(send.as_mut(), &waker);
        let mut rx = receiver.join().unwrap();
        if first.is_pending() {
            assert!(woken.woken(), "lost wake");
            assert_eq!(poll_with(send.as_mut(), &waker), Poll::Ready(Ok(())));
        }
        assert_eq!(rx.try_recv(), Ok(1));
    });
}

/// Capacity 1, full; a send waits while the receiver closes on another
/// thread: the send fails with its value (woken if queued), and the
/// message already queued is still received.
#[test]
fn loom_mpsc_close_fails_a_send_waiting_for_capacity() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let closer = thread::spawn(move || {
            rx.close();
            rx
        });
        let (woken, waker) = counting_waker();
        let mut send = pin!(tx.send(1));
        let first = poll_with(send.as_mut(), &waker);
        let mut rx = closer.join().unwrap();
        let out = match first {
            Poll::Ready(out) => out,
            Poll::Pending => {
                assert!(woken.woken(), "lost wake");
                let Poll::Ready(out) = poll_with(send.as_mut(), &waker) else {
                    panic!("left waiting on a closed channel");
                };
                out
            }
        };
        assert_eq!(out.unwrap_err().0, 1);
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// An unbounded send races `close`: the message is received exactly when
/// the send succeeded; after it the channel reports the end.
#[test]
fn loom_mpsc_unbounded_send_racing_close() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sender = thread::spawn(move || tx.send(1).is_ok());
        rx.close();
        let sent = sender.join().unwrap();
        if sent {
            assert_eq!(rx.try_recv(), Ok(1), "a sent message was lost");
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// A sender sends and is dropped while the receiver waits: `recv` gives
/// the message, then `None`, never `None` first (loom reports a deadlock if
/// a wake is lost).
#[test]
fn loom_mpsc_recv_racing_last_sender_drop() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            drop(tx);
        });
        assert_eq!(loom::future::block_on(rx.recv()), Some(1));
        assert_eq!(loom::future::block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

/// Two bounded senders on two threads each send and drop; the receiver
/// gets both messages before `None`.
#[test]
fn loom_mpsc_two_senders_then_end() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let tx2 = tx.clone();
        let a = thread::spawn(move || loom::future::block_on(tx.send(1)).unwrap());
        let b = thread::spawn(move || loom::future::block_on(tx2.send(2)).unwrap());
        let mut got = Vec::new();
        while let Some(n) = loom::future::block_on(rx.recv()) {
            got.push(n);
        }
        got.sort_unstable();
        assert_eq!(got, [1, 2], "a message was lost before the end");
        a.join().unwrap();
        b.join().unwrap();
    });
}

/// The receiver is dropped while a send runs: the message is handed back
/// or dropped with the queue, exactly once; `Sender::closed` then
/// completes.
#[test]
fn loom_mpsc_receiver_drop_racing_send_drops_the_message_once() {
    loom::model(|| {
        let drops = Dropped::default();
        let (tx, rx) = mpsc::channel(1);
        let value = drops.token();
        let dropper = thread::spawn(move || drop(rx));
        let (woken, waker) = counting_waker();
        let sent = tx.try_send(value).is_ok();
        let mut closed = pin!(tx.closed());
        let first = poll_with(closed.as_mut(), &waker);
        dropper.join().unwrap();
        if first.is_pending() {
            assert!(woken.woken(), "Sender::closed missed the drop");
            assert!(poll_with(closed.as_mut(), &waker).is_ready());
        }
        assert_eq!(drops.get(), 1, "dropped once (sent: {sent})");
    });
}
