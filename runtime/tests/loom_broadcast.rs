//! Loom models of `broadcast` (a ring under one mutex, each slot counting
//! the receivers that have not taken its value): a lagging receiver racing
//! a send gets the exact `Lagged(n)` and then the oldest value kept, a
//! `recv` racing the last sender's drop drains before `Closed`, a
//! cancelled `recv` loses no value for its receiver, a queued `recv`
//! dropped while a send releases it (its node leaves the queue in the
//! send, not in the drop) takes no other waiter's node with it, and every
//! value is dropped exactly once whatever receivers take, lag or leave. Run with
//! `RUSTFLAGS="--cfg loom --cfg crossbeam_loom" LOOM_MAX_PREEMPTIONS=2
//! cargo test -p keen --release --lib loom_broadcast`.

use std::sync::atomic::Ordering::SeqCst;
use std::task::Poll;

use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::AtomicUsize;
use loom::thread;

use crate::loom_support::{counting_waker, poll_once, poll_with};
use crate::sync::broadcast::{self, Receiver, error::RecvError, error::TryRecvError};

/// Takes everything `rx` has now: values and lags, in order.
fn drain(rx: &mut Receiver<usize>) -> Vec<Result<usize, u64>> {
    let mut out = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(v) => out.push(Ok(v)),
            Err(TryRecvError::Lagged(n)) => out.push(Err(n)),
            Err(TryRecvError::Empty | TryRecvError::Closed) => return out,
        }
    }
}

/// Checks that `seen` accounts for values `0..sent` in order: each one
/// received once or counted in exactly one lag, the last `kept` received.
fn accounts_for(seen: &[Result<usize, u64>], sent: usize, kept: usize) {
    let mut next = 0;
    for item in seen {
        match *item {
            Ok(v) => {
                assert_eq!(v, next, "out of order or skipped without a lag: {seen:?}");
                next += 1;
            }
            Err(n) => next += n as usize,
        }
    }
    assert_eq!(next, sent, "values unaccounted for: {seen:?}");
    let tail: Vec<_> = seen[seen.len() - kept..].to_vec();
    let want: Vec<_> = (sent - kept..sent).map(Ok).collect();
    assert_eq!(
        tail, want,
        "the values kept were not all received: {seen:?}"
    );
}

/// A full ring of two; the receiver takes one value while another thread
/// sends a third (overwriting the oldest): either it got 0 and then 1, 2,
/// or `Lagged(1)` and then 1, 2.
#[test]
fn loom_lagging_receiver_racing_a_send_gets_the_exact_lag() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(2);
        tx.send(0).unwrap();
        tx.send(1).unwrap();
        let sender = thread::spawn(move || {
            tx.send(2).unwrap();
            tx
        });
        let first = match rx.try_recv() {
            Ok(v) => Ok(v),
            Err(TryRecvError::Lagged(n)) => Err(n),
            Err(other) => panic!("{other:?}"),
        };
        assert!(first == Ok(0) || first == Err(1), "{first:?}");
        let _tx = sender.join().unwrap();
        let mut seen = vec![first];
        seen.extend(drain(&mut rx));
        accounts_for(&seen, 3, 2);
    });
}

/// Two sends race a lagging receiver's `recv` future: lags and values
/// add up to exactly what was sent, in order, ending with the two kept.
#[test]
fn loom_lag_counts_add_up_under_concurrent_sends() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(2);
        tx.send(0).unwrap();
        tx.send(1).unwrap();
        let sender = thread::spawn(move || {
            tx.send(2).unwrap();
            tx.send(3).unwrap();
            tx
        });
        let first = match poll_once(std::pin::pin!(rx.recv())) {
            Poll::Ready(Ok(v)) => Ok(v),
            Poll::Ready(Err(RecvError::Lagged(n))) => Err(n),
            other => panic!("{other:?}"),
        };
        let _tx = sender.join().unwrap();
        let mut seen = vec![first];
        seen.extend(drain(&mut rx));
        accounts_for(&seen, 4, 2);
    });
}

/// Two senders each send one value and are dropped while the receiver
/// loops on `recv`: it gets both values, then `Closed`.
#[test]
fn loom_recv_racing_the_last_sender_drop_drains_first() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(2);
        let tx2 = tx.clone();
        let a = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        let b = thread::spawn(move || {
            tx2.send(2).unwrap();
        });
        let mut got = Vec::new();
        loop {
            match block_on(rx.recv()) {
                Ok(v) => got.push(v),
                Err(RecvError::Closed) => break,
                Err(lag) => panic!("{lag:?}"),
            }
        }
        got.sort_unstable();
        assert_eq!(got, [1, 2], "Closed before the values were taken");
        a.join().unwrap();
        b.join().unwrap();
    });
}

/// A `recv` is polled and then dropped while a send runs: if it did not
/// return the value, its receiver still has it (a `recv` takes a value
/// only when it returns it).
#[test]
fn loom_cancelled_recv_racing_a_send_loses_nothing() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(2);
        let sender = thread::spawn(move || {
            tx.send(7).unwrap();
            tx
        });
        let first = {
            let mut recv = Box::pin(rx.recv());
            let first = poll_once(recv.as_mut());
            drop(recv); // cancelled, queued or already woken
            first
        };
        let _tx = sender.join().unwrap();
        match first {
            Poll::Ready(v) => assert_eq!(v, Ok(7)),
            Poll::Pending => assert_eq!(rx.try_recv(), Ok(7), "the cancelled recv lost the value"),
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

/// A `recv` polled (counting waker) while a send runs: it returns the
/// value at once, or it is woken and returns it when polled again.
#[test]
fn loom_recv_racing_a_send_never_loses_the_wake() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(2);
        let sender = thread::spawn(move || {
            tx.send(7).unwrap();
            tx
        });
        let (count, waker) = counting_waker();
        let mut recv = Box::pin(rx.recv());
        let first = poll_with(recv.as_mut(), &waker);
        let _tx = sender.join().unwrap();
        if first.is_pending() {
            assert_eq!(count.get(), 1, "lost wake");
            assert_eq!(poll_with(recv.as_mut(), &waker), Poll::Ready(Ok(7)));
        } else {
            assert_eq!(first, Poll::Ready(Ok(7)));
        }
    });
}

/// Two receivers' `recv`s are queued; one is dropped while a send
/// releases both (removing their nodes itself): whichever comes first,
/// the other waiter is woken and gets the value, and the dropped one's
/// receiver still has it.
#[test]
fn loom_queued_recv_dropped_while_a_send_releases_it_spares_the_other_waiter() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(2);
        let mut other = tx.subscribe();
        let (count, waker) = counting_waker();
        let mut first = Box::pin(rx.recv());
        let mut second = Box::pin(other.recv());
        assert!(poll_once(first.as_mut()).is_pending());
        assert!(poll_with(second.as_mut(), &waker).is_pending());
        let sender = thread::spawn(move || {
            tx.send(7).unwrap();
            tx
        });
        drop(first);
        let _tx = sender.join().unwrap();
        assert_eq!(count.get(), 1, "the other waiter was not woken");
        assert_eq!(poll_with(second.as_mut(), &waker), Poll::Ready(Ok(7)));
        drop(second);
        assert_eq!(
            rx.try_recv(),
            Ok(7),
            "the dropped recv's receiver lost the value"
        );
    });
}

/// A value that counts live copies of itself (clones made, drops done).
struct Val(Arc<AtomicUsize>);

impl Val {
    fn new(live: &Arc<AtomicUsize>) -> Val {
        live.fetch_add(1, SeqCst);
        Val(live.clone())
    }
}

impl Clone for Val {
    fn clone(&self) -> Val {
        Val::new(&self.0)
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        assert!(self.0.fetch_sub(1, SeqCst) > 0, "dropped twice");
    }
}

/// One receiver takes a value and leaves, another takes what it can
/// while a sender sends three values into a ring of two (one is
/// overwritten) and leaves: when everything is gone, every copy was
/// dropped exactly once.
#[test]
fn loom_every_value_dropped_exactly_once_with_concurrent_receivers() {
    loom::model(|| {
        let live = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = broadcast::channel(2);
        let mut rx2 = tx.subscribe();
        let sender = {
            let live = live.clone();
            thread::spawn(move || {
                for _ in 0..3 {
                    tx.send(Val::new(&live)).unwrap();
                }
            })
        };
        let other = thread::spawn(move || {
            let _ = rx2.try_recv();
            drop(rx2);
        });
        let _ = rx.try_recv();
        sender.join().unwrap();
        other.join().unwrap();
        while !matches!(rx.try_recv(), Err(TryRecvError::Closed)) {}
        assert_eq!(
            live.load(SeqCst),
            0,
            "every value taken or overwritten is dropped"
        );
        drop(rx);
    });
}

/// One of two receivers leaves while a value is sent: the value is
/// counted for it or not, and either way the one left takes the value
/// itself (the last taker gets it by move) and nothing stays queued.
#[test]
fn loom_receiver_drop_racing_a_send_leaves_nothing_behind() {
    loom::model(|| {
        let live = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = broadcast::channel(2);
        let rx2 = tx.subscribe();
        let leaver = thread::spawn(move || drop(rx2));
        tx.send(Val::new(&live)).unwrap();
        leaver.join().unwrap();
        let Ok(value) = rx.try_recv() else {
            panic!("the value is there");
        };
        assert_eq!(live.load(SeqCst), 1, "taken by move, not cloned");
        assert_eq!(tx.len(), 0, "nothing left queued");
        drop(value);
        assert_eq!(live.load(SeqCst), 0);
    });
}
