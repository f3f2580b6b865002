//! `keen::sync::Notify` on every runtime configuration, with tokio's
//! meaning: `notify_one` stores one permit when nobody waits (and only
//! one), wakes waiters in FIFO order; `notify_waiters` wakes every current
//! waiter, reaches a `Notified` created before the call even if it was never
//! polled, and stores no permit; `enable` queues a future without polling
//! it; a `Notified` dropped after a `notify_one` chose it passes the
//! notification on (to the next waiter, or back into the permit, by hand
//! and by aborting a task), while one woken by `notify_waiters` does not;
//! and no wake-up is lost between plain threads and tasks.

use std::pin::pin;
use std::sync::Arc;
use std::thread;

use keen::sync::Notify;
use keen_suite::{ALL, announce_pending, each, poll_once, run_in_task, signal};

#[test]
fn notify_one_stores_exactly_one_permit_when_nobody_waits() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let notify = Arc::new(Notify::new());
            notify.notify_one();
            notify.notify_one();
            notify.notified().await; // the stored permit
            // Boxed so that `drop` drops the future itself (leaving the queue).
            let mut second = Box::pin(notify.notified());
            assert!(
                !second.as_mut().enable(),
                "two notify_one calls store one permit"
            );
            drop(second);
            // With a task waiting, notify_one wakes it and stores nothing.
            let (queued, is_queued) = signal();
            let waiter = keen::spawn({
                let notify = notify.clone();
                async move { announce_pending(notify.notified(), queued).await }
            });
            is_queued.await;
            notify.notify_one();
            waiter.await.unwrap();
            let mut after = pin!(notify.notified());
            assert!(
                !after.as_mut().enable(),
                "the notification was used by the waiter"
            );
        });
    });
}

#[test]
fn notify_one_serves_waiters_in_arrival_order() {
    // By hand: exactly the oldest waiter is picked.
    let notify = Notify::new();
    let mut futures: Vec<_> = (0..4).map(|_| Box::pin(notify.notified())).collect();
    for f in &mut futures {
        assert!(poll_once(f).is_pending());
    }
    for i in 0..4 {
        notify.notify_one();
        for (j, f) in futures.iter_mut().enumerate().skip(i) {
            assert_eq!(
                poll_once(f).is_ready(),
                j == i,
                "notify_one #{i}, waiter {j}"
            );
        }
    }

    // With tasks: each notify_one wakes the next task in queue order.
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let order = run_in_task(&rt, async {
            let notify = Arc::new(Notify::new());
            let (done_tx, mut done_rx) = keen::sync::mpsc::unbounded_channel();
            for i in 0..10 {
                let (queued, is_queued) = signal();
                let (notify, done_tx) = (notify.clone(), done_tx.clone());
                keen::spawn(async move {
                    announce_pending(notify.notified(), queued).await;
                    done_tx.send(i).unwrap();
                });
                is_queued.await;
            }
            let mut order = Vec::new();
            for _ in 0..10 {
                notify.notify_one();
                order.push(done_rx.recv().await.unwrap());
            }
            order
        });
        assert_eq!(order, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn notify_waiters_wakes_every_waiter_and_stores_no_permit() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let notify = Arc::new(Notify::new());
            let mut tasks = Vec::new();
            for _ in 0..20 {
                let (queued, is_queued) = signal();
                let notify = notify.clone();
                tasks.push(keen::spawn(async move {
                    announce_pending(notify.notified(), queued).await
                }));
                is_queued.await;
            }
            notify.notify_waiters();
            for task in tasks {
                task.await.unwrap();
            }
            let mut later = pin!(notify.notified());
            assert!(!later.as_mut().enable(), "notify_waiters stored a permit");
            notify.notify_one();
            later.await;
        });
    });
}

#[test]
fn notify_waiters_keeps_a_stored_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_waiters();
    let mut n = Box::pin(notify.notified());
    assert!(
        poll_once(&mut n).is_ready(),
        "the permit from notify_one is still there"
    );
}

#[test]
fn a_notified_created_before_notify_waiters_is_woken_unpolled() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let notify = Arc::new(Notify::new());
            let before = notify.notified();
            let mut also_before = Box::pin(notify.notified());
            let caller = keen::spawn({
                let notify = notify.clone();
                async move { notify.notify_waiters() }
            });
            caller.await.unwrap();
            let mut after = Box::pin(notify.notified());
            before.await; // never polled before the call, still woken
            assert!(poll_once(&mut also_before).is_ready());
            assert!(poll_once(&mut after).is_pending(), "created after the call");
        });
    });
}

#[test]
fn enable_queues_without_polling() {
    let notify = Notify::new();
    let mut n = pin!(notify.notified());
    assert!(!n.as_mut().enable());
    assert!(
        !n.as_mut().enable(),
        "enabling twice keeps one place in the queue"
    );
    notify.notify_one();
    assert!(n.as_mut().enable(), "notify_one went to the enabled future");
    let mut other = Box::pin(notify.notified());
    assert!(poll_once(&mut other).is_pending(), "no permit was stored");
    keen::block_on(n);
}

#[test]
fn a_dropped_notified_passes_a_notify_one_on() {
    // To the next waiter.
    let notify = Notify::new();
    let mut a = Box::pin(notify.notified());
    let mut b = Box::pin(notify.notified());
    assert!(poll_once(&mut a).is_pending());
    assert!(poll_once(&mut b).is_pending());
    notify.notify_one(); // picks `a`
    assert!(poll_once(&mut b).is_pending(), "it went to `a`");
    drop(a);
    assert!(poll_once(&mut b).is_ready(), "`a` passed it on to `b`");

    // Back into the permit when nobody else waits.
    let mut a = Box::pin(notify.notified());
    assert!(poll_once(&mut a).is_pending());
    notify.notify_one();
    drop(a);
    let mut c = Box::pin(notify.notified());
    assert!(
        poll_once(&mut c).is_ready(),
        "the notification became the permit"
    );

    // Dropped while still queued: nothing to pass on.
    let mut a = Box::pin(notify.notified());
    let mut b = Box::pin(notify.notified());
    assert!(poll_once(&mut a).is_pending());
    assert!(poll_once(&mut b).is_pending());
    drop(a);
    notify.notify_one();
    assert!(poll_once(&mut b).is_ready(), "`b` is the front waiter now");

    // A notify_waiters wake-up is not passed on.
    let mut a = Box::pin(notify.notified());
    let mut b = Box::pin(notify.notified());
    assert!(poll_once(&mut a).is_pending());
    notify.notify_waiters();
    drop(a);
    assert!(poll_once(&mut b).is_ready(), "created before the call");
    let mut c = Box::pin(notify.notified());
    assert!(
        poll_once(&mut c).is_pending(),
        "no permit came from notify_waiters"
    );
}

#[test]
fn an_aborted_task_chosen_by_notify_one_passes_it_on() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let notify = Arc::new(Notify::new());
            let (queued, is_queued) = signal();
            let first = keen::spawn({
                let notify = notify.clone();
                async move { announce_pending(notify.notified(), queued).await }
            });
            is_queued.await;
            let (queued, is_queued) = signal();
            let second = keen::spawn({
                let notify = notify.clone();
                async move { announce_pending(notify.notified(), queued).await }
            });
            is_queued.await;
            notify.notify_one(); // chooses `first`
            first.abort();
            let first_ran = first.await.is_ok();
            if first_ran {
                // It won the race on a multi-thread runtime: `second` needs
                // its own notification.
                assert!(
                    cfg.is_multi_thread(),
                    "abort before the task ran must win here"
                );
                notify.notify_one();
            }
            second.await.unwrap();
            let mut after = pin!(notify.notified());
            assert!(!after.as_mut().enable(), "one notification, used once");
        });
    });
}

#[test]
fn ping_pong_between_a_plain_thread_and_a_task_loses_no_wakeup() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (ping, pong) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let (waiters_call, waiters_done) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let other = thread::spawn({
            let (ping, pong) = (ping.clone(), pong.clone());
            let (waiters_call, waiters_done) = (waiters_call.clone(), waiters_done.clone());
            move || {
                keen::block_on(async move {
                    for _ in 0..1_000 {
                        ping.notified().await;
                        pong.notify_one();
                    }
                    // notify_waiters racing a waiter that enables itself.
                    for _ in 0..200 {
                        waiters_call.notified().await;
                        waiters_done.notify_waiters();
                    }
                })
            }
        });
        run_in_task(&rt, async move {
            for _ in 0..1_000 {
                ping.notify_one();
                pong.notified().await;
            }
            for _ in 0..200 {
                let mut done = pin!(waiters_done.notified());
                done.as_mut().enable();
                waiters_call.notify_one();
                done.await;
            }
        });
        other.join().unwrap();
    });
}

#[test]
fn a_static_notify() {
    static NOTIFY: Notify = Notify::const_new();
    NOTIFY.notify_one();
    keen::block_on(NOTIFY.notified());
}

#[test]
fn notify_last_wakes_the_newest_waiter_and_a_dropped_choice_passes_on() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        rt.block_on(async {
            let notify = Notify::new();
            let mut a = Box::pin(notify.notified());
            let mut b = Box::pin(notify.notified());
            let mut c = Box::pin(notify.notified());
            for waiter in [&mut a, &mut b, &mut c] {
                assert!(poll_once(waiter).is_pending());
            }
            notify.notify_last();
            assert!(poll_once(&mut c).is_ready(), "the newest waiter");
            assert!(poll_once(&mut a).is_pending() && poll_once(&mut b).is_pending());
            // Chosen, then dropped before it completes: passed on to the
            // longest waiter, as a `notify_one` would be.
            notify.notify_last();
            drop(b);
            assert!(poll_once(&mut a).is_ready(), "the choice went on to `a`");
            // Nobody waits: a permit is stored, once.
            notify.notify_last();
            notify.notify_last();
            notify.notified().await;
            let mut after = Box::pin(notify.notified());
            assert!(poll_once(&mut after).is_pending(), "one permit only");
        });
    });
}

#[test]
fn an_owned_notified_moves_into_a_task_and_passes_on_when_dropped() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        rt.block_on(async {
            let notify = Arc::new(Notify::new());
            // Moved into a task ('static), reached by notify_waiters though
            // created before it and maybe not yet polled (lazy configs).
            let task = keen::spawn(notify.clone().notified_owned());
            notify.notify_waiters();
            task.await.unwrap();
            // A chosen owned waiter dropped before completing passes on.
            let mut chosen = Box::pin(notify.clone().notified_owned());
            let mut next = Box::pin(notify.clone().notified_owned());
            assert!(poll_once(&mut chosen).is_pending());
            assert!(poll_once(&mut next).is_pending());
            notify.notify_one();
            drop(chosen);
            assert!(poll_once(&mut next).is_ready(), "passed on to the next");
        });
    });
}
