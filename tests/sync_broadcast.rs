//! `keen::sync::broadcast` on every runtime configuration: every receiver
//! gets every value in order; a receiver more than `capacity` (rounded up
//! to a power of two) behind gets exactly `Lagged(n)` for the `n` values
//! it missed, then the oldest value kept; `resubscribe` starts at the
//! tail; receivers see `Closed` only after the last sender is gone *and*
//! they drained the ring; a cancelled `recv` (timed out, or woken and then
//! dropped) loses nothing; senders on plain threads feed receivers on
//! tasks without losing a value; `send` with no receiver hands the value
//! back; every value (with its clones) is dropped exactly once, as soon
//! as every receiver that could see it has, or when overwritten;
//! receivers reading slots without the state lock while a sender laps a
//! ring of two account for every value; and a woken `recv` dropped late
//! leaves alone the waiter that reused its place in the queue.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use keen::scope::move_on_after;
use keen::sync::broadcast::error::{RecvError, SendError, TryRecvError};
use keen::sync::broadcast::{self, Receiver};
use keen::task::yield_now;
use keen_suite::{
    ALL, DropCounter, DropToken, counting_waker, each, panic_message, poll_once, run_in_task,
};

const MS: Duration = Duration::from_millis(1);

async fn drain<T: Clone>(rx: &mut Receiver<T>) -> Vec<T> {
    let mut got = Vec::new();
    loop {
        match rx.recv().await {
            Ok(value) => got.push(value),
            Err(RecvError::Closed) => return got,
            Err(RecvError::Lagged(n)) => panic!("lagged by {n}"),
        }
    }
}

#[test]
fn every_receiver_sees_every_value_in_order() {
    const N: u32 = 1_000;
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (tx, rx) = broadcast::channel(1024);
            let receivers: Vec<_> = (0..4)
                .map(|_| {
                    let mut rx = tx.subscribe();
                    keen::spawn(async move { drain(&mut rx).await })
                })
                .collect();
            drop(rx);
            for i in 0..N {
                assert_eq!(tx.send(i).unwrap(), 4);
                if i % 64 == 0 {
                    yield_now().await;
                }
            }
            drop(tx);
            for r in receivers {
                assert_eq!(r.await.unwrap(), (0..N).collect::<Vec<_>>());
            }
        });
    });
}

#[test]
fn a_lagging_receiver_gets_exactly_lagged_n_then_the_oldest_kept() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            // capacity 3 rounds up to 4, as tokio.
            let (tx, mut slow) = broadcast::channel(3);
            let mut fast = tx.subscribe();
            for i in 0..4 {
                tx.send(i).unwrap();
                assert_eq!(fast.recv().await, Ok(i));
            }
            assert_eq!(slow.len(), 4);
            assert_eq!(slow.try_recv(), Ok(0), "4 fit: nothing lost yet");
            for i in 4..11 {
                tx.send(i).unwrap();
                assert_eq!(fast.recv().await, Ok(i));
            }
            // slow is at 1, the ring holds 7..=10: it missed 1..=6.
            assert_eq!(slow.len(), 10);
            assert_eq!(slow.recv().await, Err(RecvError::Lagged(6)));
            for i in 7..11 {
                assert_eq!(slow.recv().await, Ok(i));
            }
            assert_eq!(slow.try_recv(), Err(TryRecvError::Empty));
            // try_recv reports lag the same way.
            for i in 11..16 {
                tx.send(i).unwrap();
            }
            assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(1)));
            assert_eq!(slow.try_recv(), Ok(12));
            // Lagged comes before Closed; the kept values still drain.
            for i in 16..30 {
                tx.send(i).unwrap();
            }
            drop(tx);
            assert_eq!(slow.recv().await, Err(RecvError::Lagged(13)));
            assert_eq!(drain(&mut slow).await, vec![26, 27, 28, 29]);
            assert_eq!(fast.recv().await, Err(RecvError::Lagged(26 - 11)));
        });
    });
}

#[test]
fn resubscribe_and_subscribe_start_at_the_tail() {
    let (tx, mut rx) = broadcast::channel(8);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    let mut again = rx.resubscribe();
    let mut late = tx.subscribe();
    assert!(again.is_empty() && late.is_empty());
    assert_eq!(again.try_recv(), Err(TryRecvError::Empty));
    tx.send(3).unwrap();
    assert_eq!(again.try_recv(), Ok(3));
    assert_eq!(late.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Ok(1), "the original keeps its place");
    assert!(rx.same_channel(&again));
    assert_eq!(tx.receiver_count(), 3);
}

#[test]
fn receivers_see_closed_after_the_last_sender_and_the_last_value() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (tx, mut rx) = broadcast::channel(8);
            let tx2 = tx.clone();
            tx.send(1).unwrap();
            drop(tx);
            assert!(!rx.is_closed(), "a sender is left");
            tx2.send(2).unwrap();
            drop(tx2);
            assert!(rx.is_closed(), "closed while values remain");
            assert_eq!(rx.try_recv(), Ok(1));
            assert_eq!(rx.recv().await, Ok(2));
            assert_eq!(rx.recv().await, Err(RecvError::Closed));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
            // A waiting recv is woken by the drop, on another task.
            let (tx, mut rx) = broadcast::channel::<u8>(8);
            keen::spawn(async move {
                yield_now().await;
                drop(tx);
            });
            assert_eq!(rx.recv().await, Err(RecvError::Closed));
        });
        // ... and by a drop on a plain thread.
        let (tx, mut rx) = broadcast::channel::<u8>(8);
        let dropper = thread::spawn(move || drop(tx));
        let got = run_in_task(&rt, async move { rx.recv().await });
        assert_eq!(got, Err(RecvError::Closed));
        dropper.join().unwrap();
    });
}

#[test]
fn send_without_receivers_hands_the_value_back_and_closed_completes() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (tx, rx) = broadcast::channel(4);
            let rx2 = tx.subscribe();
            let mut closed = Box::pin(tx.closed());
            assert!(poll_once(&mut closed).is_pending());
            drop(rx);
            assert!(poll_once(&mut closed).is_pending(), "one receiver is left");
            keen::spawn(async move {
                yield_now().await;
                drop(rx2);
            });
            closed.await;
            assert_eq!(tx.send("lost"), Err(SendError("lost")));
            assert!(tx.is_empty());
            tx.closed().await;
            // A sender made with `new` has no receiver until subscribe.
            let tx = broadcast::Sender::new(2);
            assert_eq!(tx.send(1), Err(SendError(1)));
            let mut rx = tx.subscribe();
            assert_eq!(tx.send(2), Ok(1));
            assert_eq!(rx.recv().await, Ok(2));
        });
    });
}

#[test]
fn a_cancelled_recv_loses_nothing() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let (tx, mut rx) = broadcast::channel(4);
            assert!(move_on_after(5 * MS, rx.recv()).await.is_none());
            tx.send(1).unwrap();
            assert_eq!(move_on_after(5 * MS, rx.recv()).await, Some(Ok(1)));
        });
    });
    // Woken by a send, then dropped before it ran: the value is still
    // there, and the other waiter was woken too.
    let (tx, mut rx) = broadcast::channel(4);
    let mut other = tx.subscribe();
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    {
        let mut first = pin!(rx.recv());
        let mut second = pin!(other.recv());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        tx.send(5).unwrap();
        assert_eq!(second.as_mut().poll(&mut cx), Poll::Ready(Ok(5)));
    }
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(tx.len(), 0, "both took it");
}

#[test]
fn senders_on_plain_threads_feed_receivers_on_tasks_without_loss() {
    const SENDERS: usize = 4;
    const EACH: usize = 250;
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let other = ALL[2].build();
        // Room for everything: no receiver may lag, so each counts all.
        let (tx, rx) = broadcast::channel(SENDERS * EACH);
        let count = |mut rx: Receiver<(usize, usize)>| async move {
            let mut next = [0; SENDERS];
            for (s, i) in drain(&mut rx).await {
                assert_eq!(next[s], i, "sender {s} out of order");
                next[s] += 1;
            }
            next
        };
        let tasks: Vec<_> = (0..6).map(|_| rt.spawn(count(tx.subscribe()))).collect();
        let remote = other.spawn(count(tx.subscribe()));
        drop(rx);
        let start = Arc::new(Barrier::new(SENDERS));
        let senders: Vec<_> = (0..SENDERS)
            .map(|s| {
                let (tx, start) = (tx.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    for i in 0..EACH {
                        assert_eq!(tx.send((s, i)).unwrap(), 7);
                    }
                })
            })
            .collect();
        drop(tx);
        for s in senders {
            s.join().unwrap();
        }
        for t in tasks {
            assert_eq!(rt.block_on(t).unwrap(), [EACH; SENDERS]);
        }
        assert_eq!(other.block_on(remote).unwrap(), [EACH; SENDERS]);
    });
}

#[test]
fn a_plain_thread_receives_with_blocking_recv_which_panics_in_async_context() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (tx, mut rx) = broadcast::channel(4);
        let reader = thread::spawn(move || (rx.blocking_recv(), rx.blocking_recv()));
        run_in_task(&rt, async move {
            tx.send(1).unwrap();
            yield_now().await;
            drop(tx);
        });
        assert_eq!(reader.join().unwrap(), (Ok(1), Err(RecvError::Closed)));
        let (_tx, mut rx) = broadcast::channel::<u8>(4);
        let payload = rt
            .block_on(rt.spawn(async move { rx.blocking_recv() }))
            .unwrap_err()
            .into_panic();
        assert!(panic_message(&*payload).contains("blocking_recv"));
    });
}

/// A value that counts its drops: every clone carries a token of its own,
/// so `drops` ends equal to `made` (originals + clones) if every copy is
/// dropped exactly once.
struct Tracked {
    counter: DropCounter,
    made: Arc<AtomicUsize>,
    _token: DropToken,
}

impl Tracked {
    fn new(counter: &DropCounter, made: &Arc<AtomicUsize>) -> Tracked {
        made.fetch_add(1, Ordering::SeqCst);
        Tracked {
            counter: counter.clone(),
            made: made.clone(),
            _token: counter.token(),
        }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Tracked {
        Tracked::new(&self.counter, &self.made)
    }
}

#[test]
fn values_are_dropped_exactly_once_and_as_soon_as_nobody_can_see_them() {
    let drops = DropCounter::new();
    let made = Arc::new(AtomicUsize::new(0));
    let live = || made.load(Ordering::SeqCst) - drops.get();
    let value = || Tracked::new(&drops, &made);
    {
        let (tx, mut a) = broadcast::channel(2);
        let mut b = tx.subscribe();
        tx.send(value()).unwrap();
        assert_eq!(live(), 1);
        drop(a.try_recv().unwrap()); // a clone
        assert_eq!(live(), 1, "b has not taken it");
        let last = b.try_recv().unwrap(); // the value itself, no clone
        assert_eq!(made.load(Ordering::SeqCst), 2);
        assert_eq!(tx.len(), 0);
        drop(last);
        assert_eq!(live(), 0);
        // Overwritten values are dropped at once.
        for _ in 0..5 {
            tx.send(value()).unwrap();
        }
        assert_eq!(live(), 2, "the ring holds 2");
        // A receiver dropped counts itself off what it had not taken.
        drop(a);
        assert_eq!(live(), 2, "b still can take them");
        assert_eq!(b.try_recv().err(), Some(TryRecvError::Lagged(3)));
        drop(b.try_recv().unwrap());
        assert_eq!(live(), 1);
        drop(b);
        assert_eq!(live(), 0);
        // No receiver: the value comes back.
        let err = tx.send(value()).unwrap_err();
        drop(err);
        assert_eq!(live(), 0);
        // Values still held drop with the channel.
        let mut c = tx.subscribe();
        tx.send(value()).unwrap();
        tx.send(value()).unwrap();
        drop(c.try_recv().unwrap());
        assert_eq!(live(), 1);
        drop(tx);
        assert_eq!(live(), 1, "c can still take it");
    }
    assert_eq!(live(), 0);
    assert_eq!(drops.get(), made.load(Ordering::SeqCst));
}

#[test]
fn values_are_dropped_exactly_once_under_concurrent_receivers() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let drops = DropCounter::new();
        let made = Arc::new(AtomicUsize::new(0));
        run_in_task(&rt, {
            let (drops, made) = (drops.clone(), made.clone());
            async move {
                // A small ring: receivers lag, values get overwritten.
                let (tx, rx) = broadcast::channel(4);
                let tasks: Vec<_> = (0..4)
                    .map(|k| {
                        let mut rx = tx.subscribe();
                        keen::spawn(async move {
                            for _ in 0..k * 20 {
                                match rx.recv().await {
                                    Ok(v) => drop(v),
                                    Err(RecvError::Lagged(_)) => {}
                                    Err(RecvError::Closed) => break,
                                }
                                yield_now().await;
                            }
                        })
                    })
                    .collect();
                drop(rx);
                for _ in 0..200 {
                    let _ = tx.send(Tracked::new(&drops, &made));
                    yield_now().await;
                }
                drop(tx);
                for t in tasks {
                    t.await.unwrap();
                }
            }
        });
        assert_eq!(drops.get(), made.load(Ordering::SeqCst));
    });
}

#[test]
fn the_handles_and_recv_future_are_send() {
    fn send<T: Send>(_: &T) {}
    let (tx, mut rx) = broadcast::channel::<Vec<u8>>(4);
    send(&tx.closed());
    send(&rx.recv());
}

/// One script of sends and `try_recv`s on two receivers, written once for
/// keen's and tokio's broadcast; returns every outcome as text.
macro_rules! lag_script {
    ($broadcast:path, $capacity:expr) => {{
        use $broadcast as b;
        let (tx, mut slow) = b::channel::<u32>($capacity);
        let mut fast = tx.subscribe();
        let mut log = Vec::new();
        let mut sent = 0;
        for round in 0..12u32 {
            for _ in 0..(round * 3) % 7 + 1 {
                tx.send(sent).unwrap();
                sent += 1;
            }
            log.push(format!("len {} {} {}", tx.len(), slow.len(), fast.len()));
            while let r @ (Ok(_) | Err(b::error::TryRecvError::Lagged(_))) = fast.try_recv() {
                log.push(format!("fast {r:?}"));
            }
            if round % 3 == 0 {
                for _ in 0..2 {
                    log.push(format!("slow {:?}", slow.try_recv()));
                }
            }
        }
        drop(tx);
        loop {
            let r = slow.try_recv();
            log.push(format!("slow {r:?}"));
            if matches!(r, Err(b::error::TryRecvError::Closed)) {
                break;
            }
        }
        log
    }};
}

#[test]
fn lag_and_len_match_tokio_step_by_step() {
    for capacity in [1, 2, 3, 5, 8] {
        let keen = lag_script!(keen::sync::broadcast, capacity);
        let tokio = lag_script!(tokio::sync::broadcast, capacity);
        assert_eq!(keen, tokio, "capacity {capacity}");
        assert!(keen.iter().any(|l| l.contains("Lagged")), "the script lags");
    }
}

/// `WeakSender`, as tokio's: it keeps nothing open. While a sender lives,
/// a weak one upgrades to a real sender (counted by `strong_count`) whose
/// values arrive; once the last sender is dropped the receivers see
/// `Closed` after draining, although weak senders remain, and `upgrade`
/// fails from then on. The counts follow every clone and drop.
#[test]
fn a_weak_sender_keeps_nothing_open_and_upgrades_only_while_a_sender_lives() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (tx, mut rx) = broadcast::channel(8);
            let weak = tx.downgrade();
            let weak2 = weak.clone();
            assert_eq!((tx.strong_count(), tx.weak_count()), (1, 2));
            let up = weak.upgrade().expect("a sender lives");
            assert_eq!((weak.strong_count(), weak.weak_count()), (2, 2));
            up.send(1).unwrap();
            drop(up);
            drop(weak2);
            assert_eq!((tx.strong_count(), tx.weak_count()), (1, 1));
            let reader = keen::spawn(async move { drain(&mut rx).await });
            tx.send(2).unwrap();
            drop(tx);
            assert_eq!(
                reader.await.unwrap(),
                [1, 2],
                "closed with a weak sender alive"
            );
            assert!(weak.upgrade().is_none());
            assert_eq!((weak.strong_count(), weak.weak_count()), (0, 1));
        });
    });
}

/// The race: a weak sender upgrading on one thread while the last sender
/// is dropped on another. Either the upgrade wins (its value arrives and
/// the channel stays open until it drops) or it fails; it never yields a
/// sender of a channel the receiver already saw closed.
#[test]
fn upgrading_races_the_last_sender_dropping() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        for _ in 0..200 {
            let (tx, mut rx) = broadcast::channel(8);
            let weak = tx.downgrade();
            let start = Arc::new(Barrier::new(2));
            let dropper = thread::spawn({
                let start = start.clone();
                move || {
                    start.wait();
                    drop(tx);
                }
            });
            start.wait();
            let upgraded = weak.upgrade().map(|tx| tx.send(7).unwrap()).is_some();
            dropper.join().unwrap();
            let got = rt.block_on(async { drain(&mut rx).await });
            assert_eq!(got, if upgraded { vec![7] } else { vec![] });
            assert!(weak.upgrade().is_none());
        }
    });
}

#[test]
fn a_released_recv_dropped_late_leaves_the_waiter_in_its_place_alone() {
    let (tx, mut rx) = broadcast::channel(4);
    let (wakes, waker) = counting_waker();
    let (moved_wakes, moved_waker) = counting_waker();
    let mut first = Box::pin(rx.recv());
    assert!(
        first
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    // Polled again while still queued (moved to another task): only the
    // newest waker is woken.
    assert!(
        first
            .as_mut()
            .poll(&mut Context::from_waker(&moved_waker))
            .is_pending()
    );
    tx.send(1).unwrap();
    assert_eq!((wakes.get(), moved_wakes.get()), (0, 1));
    // Its node is gone; a receiver subscribing now queues in its place
    // (the same slab key).
    let mut late = tx.subscribe();
    let (late_wakes, late_waker) = counting_waker();
    let mut late_cx = Context::from_waker(&late_waker);
    let mut second = Box::pin(late.recv());
    assert!(second.as_mut().poll(&mut late_cx).is_pending());
    // The released recv is dropped without being polled again: it must
    // not take the later waiter's node with it.
    drop(first);
    tx.send(2).unwrap();
    assert_eq!(
        late_wakes.get(),
        1,
        "the waiter in the reused place was woken"
    );
    assert_eq!(second.as_mut().poll(&mut late_cx), Poll::Ready(Ok(2)));
    drop(second);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(tx.len(), 0);
}

/// What one receiver saw: values in order, each received or counted in
/// exactly one lag.
#[derive(Default)]
struct Tally {
    expect: usize,
    got: usize,
    lagged: usize,
}

impl Tally {
    /// Counts one `recv` result; `false` once the channel is closed.
    fn count(&mut self, item: Result<(usize, Tracked), RecvError>) -> bool {
        match item {
            Ok((v, _copy)) => {
                assert_eq!(v, self.expect, "out of order or skipped without a lag");
                self.expect += 1;
                self.got += 1;
            }
            Err(RecvError::Lagged(n)) => {
                self.expect += n as usize;
                self.lagged += n as usize;
            }
            Err(RecvError::Closed) => return false,
        }
        true
    }
}

#[test]
fn receivers_racing_a_sender_round_a_small_ring_account_for_every_value() {
    const SENT: usize = 20_000;
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let drops = DropCounter::new();
        let made = Arc::new(AtomicUsize::new(0));
        // Two slots: the sender laps the receivers all the time, so their
        // reads of a slot (without the channel's state lock) race its
        // overwrites, and their waits race its wakes.
        let (tx, rx) = broadcast::channel(2);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let mut rx = tx.subscribe();
                thread::spawn(move || {
                    let mut tally = Tally::default();
                    while tally.count(rx.blocking_recv()) {}
                    tally
                })
            })
            .collect();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = tx.subscribe();
                rt.spawn(async move {
                    let mut tally = Tally::default();
                    while tally.count(rx.recv().await) {}
                    tally
                })
            })
            .collect();
        drop(rx);
        let sender = thread::spawn({
            let (drops, made) = (drops.clone(), made.clone());
            move || {
                for i in 0..SENT {
                    assert_eq!(tx.send((i, Tracked::new(&drops, &made))).unwrap(), 5);
                }
            }
        });
        sender.join().unwrap();
        let tallies = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .chain(tasks.into_iter().map(|t| rt.block_on(t).unwrap()));
        for tally in tallies {
            assert_eq!(tally.expect, SENT);
            assert_eq!(
                tally.got + tally.lagged,
                SENT,
                "every value received or lagged"
            );
            assert!(
                tally.got >= 2,
                "the two values kept at the end are received"
            );
        }
        assert_eq!(
            drops.get(),
            made.load(Ordering::SeqCst),
            "every copy dropped once"
        );
    });
}
