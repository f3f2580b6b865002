//! `keen::sync::watch` on every runtime configuration: the latest value
//! wins and nothing is queued; `changed` completes once per unseen version
//! and fails only after the last sender is gone with nothing unseen;
//! `borrow` does not mark seen and `borrow_and_update` does; `send_modify`
//! always notifies and a `send_if_modified` returning `false` never does;
//! `subscribe` and `clone` start from what is current / what the original
//! saw; a cancelled `changed` (timed out, or woken and then dropped) loses
//! nothing; `Sender::closed` waits for the last receiver; and many
//! receivers on tasks, plain threads and a second runtime all reach the
//! final value without ever seeing an older one after a newer one.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use keen::scope::move_on_after;
use keen::sync::watch;
use keen::task::yield_now;
use keen_suite::{ALL, counting_waker, each, poll_once, run_in_task};

const MS: Duration = Duration::from_millis(1);

#[test]
fn the_latest_value_wins_and_nothing_is_queued() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (tx, mut rx) = watch::channel(0);
            for i in 1..=3 {
                tx.send(i).unwrap();
            }
            rx.changed().await.unwrap();
            assert_eq!(*rx.borrow_and_update(), 3);
            // Three sends, one change seen: nothing else is pending.
            assert!(poll_once(&mut Box::pin(rx.changed())).is_pending());
            // A task waiting across many sends ends on the last value.
            let waiter = keen::spawn(async move {
                let mut seen = Vec::new();
                while rx.changed().await.is_ok() {
                    seen.push(*rx.borrow_and_update());
                }
                seen
            });
            for i in 4..=100 {
                tx.send(i).unwrap();
                if i % 10 == 0 {
                    yield_now().await;
                }
            }
            drop(tx);
            let seen = waiter.await.unwrap();
            assert_eq!(seen.last(), Some(&100));
            assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        });
    });
}

#[test]
fn changed_fails_only_after_the_sender_is_gone_and_the_last_value_seen() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            // An unseen value survives the sender: first Ok, then Err.
            let (tx, mut rx) = watch::channel(1);
            tx.send(2).unwrap();
            drop(tx);
            assert!(rx.is_closed());
            assert!(rx.has_changed().is_err(), "tokio: Err once closed");
            assert_eq!(rx.changed().await, Ok(()));
            assert_eq!(*rx.borrow_and_update(), 2);
            assert!(rx.changed().await.is_err());
            assert!(rx.changed().await.is_err(), "and stays so");
            // A waiting `changed` is woken by the drop, on another task.
            let (tx, mut rx) = watch::channel(());
            let mut rx2 = rx.clone();
            let waiter = keen::spawn(async move { rx2.changed().await });
            keen::spawn(async move {
                yield_now().await;
                drop(tx);
            });
            assert!(rx.changed().await.is_err());
            assert!(waiter.await.unwrap().is_err());
        });
        // ... and by a drop on a plain thread.
        let (tx, mut rx) = watch::channel(());
        let dropper = thread::spawn(move || drop(tx));
        assert!(run_in_task(&rt, async move { rx.changed().await }).is_err());
        dropper.join().unwrap();
    });
}

#[test]
fn borrow_and_update_marks_seen_and_borrow_does_not() {
    let (tx, mut rx) = watch::channel("a");
    assert!(!rx.borrow().has_changed());
    tx.send("b").unwrap();
    {
        let value = rx.borrow();
        assert_eq!(*value, "b");
        assert!(value.has_changed());
    }
    assert!(rx.has_changed().unwrap(), "borrow left it unseen");
    {
        let value = rx.borrow_and_update();
        assert_eq!(*value, "b");
        assert!(value.has_changed());
    }
    assert!(!rx.has_changed().unwrap());
    assert!(
        !rx.borrow_and_update().has_changed(),
        "nothing new the second time"
    );
    assert!(poll_once(&mut Box::pin(rx.changed())).is_pending());
    // mark_changed / mark_unchanged move only this receiver's mark.
    rx.mark_changed();
    assert!(rx.has_changed().unwrap());
    assert_eq!(poll_once(&mut Box::pin(rx.changed())), Poll::Ready(Ok(())));
    tx.send("c").unwrap();
    rx.mark_unchanged();
    assert!(!rx.has_changed().unwrap());
    assert_eq!(*rx.borrow(), "c");
    assert!(!tx.borrow().has_changed());
}

#[test]
fn send_modify_notifies_even_without_a_change() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (tx, mut rx) = watch::channel(5);
            let waiter = keen::spawn(async move {
                rx.changed().await.unwrap();
                *rx.borrow_and_update()
            });
            yield_now().await;
            tx.send_modify(|_| {});
            assert_eq!(waiter.await.unwrap(), 5);
            // With no receiver, send_modify and send_replace still store;
            // send fails and stores nothing.
            let (tx, rx) = watch::channel(0);
            drop(rx);
            tx.send_modify(|v| *v = 1);
            assert_eq!(tx.send_replace(2), 1);
            assert_eq!(tx.send(3), Err(watch::error::SendError(3)));
            assert_eq!(*tx.borrow(), 2);
            // subscribe reopens the channel.
            let _rx = tx.subscribe();
            assert!(tx.send(4).is_ok());
        });
    });
}

#[test]
fn send_if_modified_false_does_not_notify() {
    let (tx, mut rx) = watch::channel(0);
    let (wakes, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut changed = pin!(rx.changed());
        assert!(changed.as_mut().poll(&mut cx).is_pending());
        assert!(!tx.send_if_modified(|v| {
            *v += 1; // edited, but reported as not modified
            false
        }));
        assert_eq!(wakes.get(), 0, "no wake");
        assert!(changed.as_mut().poll(&mut cx).is_pending());
        assert!(tx.send_if_modified(|v| {
            *v += 1;
            true
        }));
        assert_eq!(wakes.get(), 1);
        assert_eq!(changed.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    }
    assert_eq!(*rx.borrow(), 2);
    // A panicking modify notifies nobody and leaves the channel usable.
    let mut changed = Box::pin(rx.changed());
    assert!(poll_once(&mut changed).is_pending());
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tx.send_modify(|_| panic!("boom"));
    }));
    assert!(panicked.is_err());
    assert!(poll_once(&mut changed).is_pending());
    tx.send(9).unwrap();
    assert_eq!(poll_once(&mut changed), Poll::Ready(Ok(())));
}

#[test]
fn subscribe_sees_current_as_seen_and_clone_inherits_the_mark() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (tx, rx) = watch::channel(1);
            tx.send(2).unwrap();
            let mut fresh = tx.subscribe();
            assert_eq!(*fresh.borrow(), 2);
            assert!(!fresh.has_changed().unwrap());
            let unseen_clone = rx.clone();
            assert!(
                unseen_clone.has_changed().unwrap(),
                "clone of an unseen mark"
            );
            assert!(rx.same_channel(&fresh));
            assert_eq!(tx.receiver_count(), 3);
            let waiter = keen::spawn(async move {
                fresh.changed().await.unwrap();
                *fresh.borrow_and_update()
            });
            yield_now().await;
            tx.send(3).unwrap();
            assert_eq!(waiter.await.unwrap(), 3);
        });
    });
}

#[test]
fn a_cancelled_changed_loses_nothing() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let (tx, mut rx) = watch::channel(0);
            // Timed out while queued: nothing marked, the next send is seen.
            assert!(move_on_after(5 * MS, rx.changed()).await.is_none());
            tx.send(1).unwrap();
            assert_eq!(move_on_after(5 * MS, rx.changed()).await, Some(Ok(())));
            assert_eq!(*rx.borrow_and_update(), 1);
        });
        // Woken (handed the news), then dropped before it ran: the version
        // stays unseen and other waiters were woken too.
        let (tx, mut rx) = watch::channel(0);
        let mut other = rx.clone();
        let (wakes, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        {
            let mut first = pin!(rx.changed());
            let mut second = pin!(other.changed());
            assert!(first.as_mut().poll(&mut cx).is_pending());
            assert!(second.as_mut().poll(&mut cx).is_pending());
            tx.send(7).unwrap();
            assert_eq!(wakes.get(), 2);
            // `first` is dropped here without running.
            assert_eq!(second.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
        }
        assert!(rx.has_changed().unwrap());
        assert_eq!(poll_once(&mut Box::pin(rx.changed())), Poll::Ready(Ok(())));
        assert_eq!(*rx.borrow(), 7);
        // A cancelled `wait_for` marks only values it rejected.
        run_in_task(&cfg.build_paused(), async move {
            let timed_out = move_on_after(5 * MS, rx.wait_for(|&v| v == 8))
                .await
                .is_none();
            assert!(timed_out);
            assert!(!rx.has_changed().unwrap(), "7 was tried and rejected");
            tx.send(8).unwrap();
            let value = rx.wait_for(|&v| v == 8).await.unwrap();
            assert!(value.has_changed());
            assert_eq!(*value, 8);
        });
    });
}

#[test]
fn wait_for_checks_the_current_value_and_fails_after_the_last() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (tx, mut rx) = watch::channel(3);
            // The current value, though seen, is tried first.
            assert_eq!(*rx.wait_for(|&v| v == 3).await.unwrap(), 3);
            let tried = Arc::new(std::sync::Mutex::new(Vec::new()));
            let log = tried.clone();
            keen::spawn(async move {
                tx.send(4).unwrap();
                yield_now().await;
                drop(tx);
            });
            let err = rx
                .wait_for(move |&v| {
                    log.lock().unwrap().push(v);
                    false
                })
                .await;
            assert!(err.is_err());
            // The last value was tried (and rejected) before the error,
            // once: the end does not make it try 4 again. (With eager
            // spawn, 4 is already current at the first call.)
            let tried = tried.lock().unwrap().clone();
            assert_eq!(tried.last(), Some(&4), "{tried:?}");
            assert_eq!(tried.iter().filter(|&&v| v == 4).count(), 1, "{tried:?}");
        });
    });
}

#[test]
fn sender_closed_waits_for_the_last_receiver() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (tx, rx) = watch::channel(());
            let rx2 = rx.clone();
            let mut closed = Box::pin(tx.closed());
            assert!(poll_once(&mut closed).is_pending());
            drop(rx);
            assert!(poll_once(&mut closed).is_pending(), "one receiver is left");
            keen::spawn(async move {
                yield_now().await;
                drop(rx2);
            });
            closed.await;
            assert!(tx.is_closed());
            assert_eq!(tx.receiver_count(), 0);
            tx.closed().await;
        });
    });
}

#[test]
fn many_receivers_on_tasks_plain_threads_and_another_runtime_reach_the_end() {
    const LAST: u64 = 2_000;
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let other = ALL[2].build();
        let (tx, rx) = watch::channel(0u64);
        // Each watcher checks it never goes back, and ends on LAST.
        let watch_to_end = |mut rx: watch::Receiver<u64>| async move {
            let mut last = 0;
            loop {
                let value = *rx.borrow_and_update();
                assert!(value >= last, "went back from {last} to {value}");
                last = value;
                if rx.changed().await.is_err() {
                    break;
                }
            }
            assert_eq!(*rx.borrow(), LAST);
            last
        };
        let tasks: Vec<_> = (0..8).map(|_| rt.spawn(watch_to_end(rx.clone()))).collect();
        let remote: Vec<_> = (0..2)
            .map(|_| other.spawn(watch_to_end(rx.clone())))
            .collect();
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || keen::block_on(watch_to_end(rx)))
            })
            .collect();
        drop(rx);
        let senders: Vec<_> = (0..2)
            .map(|s| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in (1..=LAST).filter(|i| i % 2 == s) {
                        tx.send_modify(|v| *v = (*v).max(i));
                    }
                })
            })
            .collect();
        drop(tx);
        for s in senders {
            s.join().unwrap();
        }
        for t in tasks {
            assert!(rt.block_on(t).unwrap() <= LAST);
        }
        for t in remote {
            other.block_on(t).unwrap();
        }
        for t in threads {
            t.join().unwrap();
        }
    });
}

#[test]
fn the_waiting_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let (tx, mut rx) = watch::channel(vec![1u8]);
    send(&tx.closed());
    send(&rx.changed());
    send(&rx.wait_for(|v| v.is_empty()));
}
