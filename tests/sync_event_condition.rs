//! `keen::sync::Event` and `keen::sync::Condition` on every runtime
//! configuration: an event wakes every waiter (tasks, plain threads in
//! `wait_blocking`, tasks of a second runtime) and stays set; a dropped
//! event wait leaves nothing behind; `wait_blocking` refuses async context.
//! A condition wakes exactly `n` waiters oldest first, re-locks the mutex
//! before returning, passes a notification aimed at a cancelled waiter —
//! dropped while queued, after being notified, or while re-locking — to the
//! next waiter, and works from plain threads through `blocking_lock`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use keen::sync::{Condition, Event, Mutex};
use keen::task::yield_now;
use keen_suite::{
    ALL, Trigger, announce_pending, each, panic_message, poll_once, run_in_task, signal,
};

const MS: Duration = Duration::from_millis(1);

#[test]
fn set_wakes_every_waiter_and_stays_set() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let event = Arc::new(Event::new());
            let woken = Arc::new(AtomicUsize::new(0));
            let mut tasks = Vec::new();
            for _ in 0..50 {
                let (queued, is_queued) = signal();
                let (event, woken) = (event.clone(), woken.clone());
                tasks.push(keen::spawn(async move {
                    announce_pending(event.wait(), queued).await;
                    woken.fetch_add(1, Ordering::SeqCst);
                }));
                is_queued.await;
            }
            assert_eq!(woken.load(Ordering::SeqCst), 0);
            assert!(!event.is_set());
            event.set();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(woken.load(Ordering::SeqCst), 50);
            assert!(event.is_set());
            event.set(); // again: a no-op
            event.wait().await; // ready at once
        });
    });
}

#[test]
fn a_dropped_event_wait_leaves_the_others_waiting() {
    let event = Event::new();
    let mut dropped = Box::pin(event.wait());
    let mut kept = Box::pin(event.wait());
    assert!(poll_once(&mut dropped).is_pending());
    assert!(poll_once(&mut kept).is_pending());
    drop(dropped);
    assert!(poll_once(&mut kept).is_pending());
    event.set();
    assert!(poll_once(&mut kept).is_ready());
}

#[test]
fn a_scope_timing_out_an_event_wait_is_harmless() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let event = Event::new();
            assert!(
                keen::scope::move_on_after(5 * MS, event.wait())
                    .await
                    .is_none()
            );
            event.set();
            assert!(
                keen::scope::move_on_after(5 * MS, event.wait())
                    .await
                    .is_some()
            );
        });
    });
}

#[test]
fn events_cross_threads_and_runtimes() {
    each(&ALL, |cfg| {
        // Plain threads wait for a task's set.
        let event = Arc::new(Event::new());
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let event = event.clone();
                thread::spawn(move || event.wait_blocking())
            })
            .collect();
        let rt = cfg.build();
        run_in_task(&rt, {
            let event = event.clone();
            async move { event.set() }
        });
        for w in waiters {
            w.join().unwrap();
        }

        // A task waits for a plain thread's set.
        let event = Arc::new(Event::new());
        let (queued, is_queued) = signal();
        let waiter = rt.spawn({
            let event = event.clone();
            async move { announce_pending(event.wait(), queued).await }
        });
        rt.block_on(is_queued);
        let setter = thread::spawn({
            let event = event.clone();
            move || event.set()
        });
        rt.block_on(waiter).unwrap();
        setter.join().unwrap();

        // A task of another runtime sets it.
        let event = Arc::new(Event::new());
        let other = ALL[2].build();
        let setter = other.spawn({
            let event = event.clone();
            async move {
                yield_now().await;
                event.set();
            }
        });
        run_in_task(&rt, {
            let event = event.clone();
            async move { event.wait().await }
        });
        other.block_on(setter).unwrap();
    });
}

#[test]
fn wait_blocking_in_async_context_panics() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let message = run_in_task(&rt, async {
            let event = Event::new();
            let caught =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| event.wait_blocking()));
            panic_message(&*caught.unwrap_err())
        });
        assert!(message.contains("Event::wait_blocking"), "{message}");
        // In `spawn_blocking` it is allowed.
        let event = Arc::new(Event::new());
        event.set();
        rt.block_on(rt.spawn_blocking({
            let event = event.clone();
            move || event.wait_blocking()
        }))
        .unwrap();
    });
}

/// A task body: waits once on the condition, then logs `name`.
async fn waiter(
    state: Arc<(Mutex<u32>, Condition)>,
    log: Arc<std::sync::Mutex<Vec<&'static str>>>,
    name: &'static str,
    queued: Trigger,
) {
    let (mutex, cond) = &*state;
    let guard = mutex.lock().await;
    let guard = announce_pending(cond.wait(guard), queued).await;
    log.lock().unwrap().push(name);
    drop(guard);
}

#[test]
fn notify_wakes_exactly_n_oldest_first_and_notify_all_the_rest() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let state = Arc::new((Mutex::new(0), Condition::new()));
            let log = Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut tasks = Vec::new();
            for name in ["a", "b", "c", "d"] {
                let (queued, is_queued) = signal();
                tasks.push(keen::spawn(waiter(
                    state.clone(),
                    log.clone(),
                    name,
                    queued,
                )));
                is_queued.await;
            }
            let (mutex, cond) = &*state;
            assert_eq!(cond.waiters(), 4);
            let guard = mutex.lock().await;
            assert_eq!(cond.notify(2), 2);
            assert_eq!(cond.waiters(), 2);
            drop(guard);
            let mut tasks = tasks.into_iter();
            tasks.next().unwrap().await.unwrap();
            tasks.next().unwrap().await.unwrap();
            let mut woken = log.lock().unwrap().clone();
            woken.sort();
            assert_eq!(woken, ["a", "b"], "the two oldest waiters");
            assert_eq!(cond.notify_all(), 2);
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(log.lock().unwrap().len(), 4);
            assert_eq!(cond.notify(1), 0, "nobody left");
        });
    });
}

#[test]
fn wait_re_locks_the_mutex_before_returning() {
    let mutex = Mutex::new(0);
    let cond = Condition::new();
    let guard = mutex.try_lock().unwrap();
    let mut wait = Box::pin(cond.wait(guard));
    assert!(poll_once(&mut wait).is_pending());
    // The mutex was released by `wait`.
    let mut held = mutex.try_lock().expect("wait released the mutex");
    *held = 1;
    cond.notify(1);
    assert!(
        poll_once(&mut wait).is_pending(),
        "notified, but the mutex is held"
    );
    drop(held);
    match poll_once(&mut wait) {
        Poll::Ready(guard) => assert_eq!(*guard, 1),
        Poll::Pending => panic!("the mutex was free"),
    }
}

#[test]
fn a_notification_aimed_at_a_cancelled_waiter_passes_to_the_next() {
    let mutex = Mutex::new(());
    let cond = Condition::new();

    // Cancelled after being notified, before it ran.
    let mut a = Box::pin(cond.wait(mutex.try_lock().unwrap()));
    assert!(poll_once(&mut a).is_pending());
    let mut b = Box::pin(cond.wait(mutex.try_lock().unwrap()));
    assert!(poll_once(&mut b).is_pending());
    assert_eq!(cond.notify(1), 1); // aimed at `a`
    drop(a);
    assert!(
        poll_once(&mut b).is_ready(),
        "the notification died with `a`"
    );
    drop(b);

    // Cancelled while re-locking the mutex after the notification.
    let mut a = Box::pin(cond.wait(mutex.try_lock().unwrap()));
    assert!(poll_once(&mut a).is_pending());
    let mut b = Box::pin(cond.wait(mutex.try_lock().unwrap()));
    assert!(poll_once(&mut b).is_pending());
    let held = mutex.try_lock().unwrap();
    cond.notify(1);
    assert!(
        poll_once(&mut a).is_pending(),
        "`a` now waits for the mutex"
    );
    drop(a);
    drop(held);
    assert!(
        poll_once(&mut b).is_ready(),
        "`a` did not pass its notification on"
    );
    drop(b);

    // Cancelled while still queued: it simply leaves, taking nothing.
    let mut a = Box::pin(cond.wait(mutex.try_lock().unwrap()));
    assert!(poll_once(&mut a).is_pending());
    let mut b = Box::pin(cond.wait(mutex.try_lock().unwrap()));
    assert!(poll_once(&mut b).is_pending());
    drop(a);
    assert_eq!(cond.waiters(), 1);
    assert!(poll_once(&mut b).is_pending());
    cond.notify(1);
    assert!(poll_once(&mut b).is_ready());
}

#[test]
fn an_aborted_notified_task_hands_the_notification_on() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let state = Arc::new((Mutex::new(0), Condition::new()));
            let log = Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut tasks = Vec::new();
            for name in ["first", "second"] {
                let (queued, is_queued) = signal();
                tasks.push(keen::spawn(waiter(
                    state.clone(),
                    log.clone(),
                    name,
                    queued,
                )));
                is_queued.await;
            }
            let second = tasks.pop().unwrap();
            let first = tasks.pop().unwrap();
            let (mutex, cond) = &*state;
            let guard = mutex.lock().await;
            assert_eq!(cond.notify(1), 1); // aimed at `first`
            first.abort();
            drop(guard);
            let first_ran = first.await.is_ok();
            if first_ran {
                // It ran before the abort landed (multi-thread only); then
                // the notification was used and `second` needs its own.
                assert!(cfg.is_multi_thread());
                cond.notify(1);
            }
            second.await.unwrap();
            let expected: &[&str] = if first_ran {
                &["first", "second"]
            } else {
                &["second"]
            };
            assert_eq!(*log.lock().unwrap(), expected);
        });
    });
}

#[test]
fn a_scope_cancelling_a_condition_wait_leaves_the_others_notifiable() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let state = Arc::new((Mutex::new(0), Condition::new()));
            let log = Arc::new(std::sync::Mutex::new(Vec::new()));
            let (queued, is_queued) = signal();
            let patient = keen::spawn(waiter(state.clone(), log.clone(), "patient", queued));
            is_queued.await;
            let (mutex, cond) = &*state;
            let guard = mutex.lock().await;
            let timed_out = keen::scope::move_on_after(5 * MS, cond.wait(guard)).await;
            assert!(timed_out.is_none());
            assert_eq!(cond.waiters(), 1);
            assert!(
                mutex.try_lock().is_ok(),
                "the cancelled wait gave the mutex up"
            );
            cond.notify(1);
            patient.await.unwrap();
            assert_eq!(*log.lock().unwrap(), ["patient"]);
        });
    });
}

#[test]
fn producer_and_consumer_on_plain_threads_and_tasks() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        // A queue guarded by the mutex; the condition signals "not empty".
        let state = Arc::new((Mutex::new(Vec::<u32>::new()), Condition::new()));
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let state = state.clone();
                thread::spawn(move || {
                    for i in 0..100 {
                        state.0.blocking_lock().push(p * 1000 + i);
                        state.1.notify(1);
                    }
                })
            })
            .collect();
        let received = run_in_task(&rt, {
            let state = state.clone();
            async move {
                let (mutex, cond) = &*state;
                let mut received = 0;
                let mut guard = mutex.lock().await;
                while received < 200 {
                    match guard.pop() {
                        Some(_) => received += 1,
                        None => guard = cond.wait(guard).await,
                    }
                }
                received
            }
        });
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(received, 200);
    });
}
