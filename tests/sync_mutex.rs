//! `keen::sync::Mutex` on every runtime configuration: exclusion and exact
//! counts under 10,000 contending tasks, FIFO hand-off (no barging),
//! cancel-safety of a waiting `lock()` (dropped while queued, and dropped
//! after the lock was handed to it), cancellation by a keen scope, owned
//! guards, and use from plain threads and from two runtimes at once.
//!
//! Hand-overs are deterministic: a waiter is known to be queued because
//! [`announce_pending`] fires a signal when its future first returns
//! `Pending`; futures whose queue position matters are polled by hand with
//! `poll_once`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use keen::sync::Mutex;
use keen::task::yield_now;
use keen_suite::{ALL, announce_pending, each, panic_message, poll_once, run_in_task, signal};

const MS: Duration = Duration::from_millis(1);

#[test]
fn ten_thousand_tasks_count_exactly_and_never_overlap() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (count, overlaps) = run_in_task(&rt, async {
            let count = Arc::new(Mutex::new(0usize));
            let inside = Arc::new(AtomicUsize::new(0));
            let overlaps = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..10_000)
                .map(|i| {
                    let (count, inside, overlaps) =
                        (count.clone(), inside.clone(), overlaps.clone());
                    keen::spawn(async move {
                        let mut guard = count.lock().await;
                        if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                            overlaps.fetch_add(1, Ordering::SeqCst);
                        }
                        let seen = *guard;
                        if i % 7 == 0 {
                            yield_now().await; // hold the lock across a suspension
                        }
                        *guard = seen + 1;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let count = *count.lock().await;
            (count, overlaps.load(Ordering::SeqCst))
        });
        assert_eq!(count, 10_000);
        assert_eq!(overlaps, 0, "two tasks held the lock at once");
    });
}

#[test]
fn waiters_get_the_lock_in_arrival_order() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let order = run_in_task(&rt, async {
            let mutex = Arc::new(Mutex::new(Vec::new()));
            let guard = mutex.lock().await;
            let mut tasks = Vec::new();
            for i in 0..20 {
                let (queued, is_queued) = signal();
                let mutex = mutex.clone();
                tasks.push(keen::spawn(async move {
                    announce_pending(mutex.lock(), queued).await.push(i);
                }));
                is_queued.await;
            }
            drop(guard);
            for task in tasks {
                task.await.unwrap();
            }
            mutex.lock().await.clone()
        });
        assert_eq!(order, (0..20).collect::<Vec<_>>());
    });
}

#[test]
fn unlock_hands_the_lock_to_the_first_waiter_so_try_lock_cannot_barge() {
    let mutex = Mutex::new(0);
    let guard = mutex.try_lock().unwrap();
    let mut waiter = Box::pin(mutex.lock());
    assert!(poll_once(&mut waiter).is_pending());
    drop(guard);
    assert!(
        mutex.try_lock().is_err(),
        "the lock belongs to the queued waiter now"
    );
    let mut guard = match poll_once(&mut waiter) {
        std::task::Poll::Ready(guard) => guard,
        std::task::Poll::Pending => panic!("the handed-over lock was not there"),
    };
    *guard += 1;
    drop(guard);
    assert_eq!(*mutex.try_lock().unwrap(), 1);
}

#[test]
fn a_dropped_waiter_loses_no_lock() {
    // Dropped while queued: the lock is free once the holder unlocks.
    let mutex = Mutex::new(());
    let guard = mutex.try_lock().unwrap();
    let mut queued = Box::pin(mutex.lock());
    assert!(poll_once(&mut queued).is_pending());
    drop(queued);
    drop(guard);
    assert!(mutex.try_lock().is_ok());

    // Dropped after the lock was handed to it: the next waiter gets it.
    let guard = mutex.try_lock().unwrap();
    let mut first = Box::pin(mutex.lock());
    let mut second = Box::pin(mutex.lock());
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    drop(guard); // handed to `first`
    drop(first);
    let second_guard = poll_once(&mut second);
    assert!(
        second_guard.is_ready(),
        "the lock handed to a dropped waiter went nowhere"
    );
    drop(second_guard);
    assert!(mutex.try_lock().is_ok());
}

#[test]
fn move_on_after_around_lock_leaves_the_mutex_usable() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let mutex = Arc::new(Mutex::new(0));
            let guard = mutex.lock().await;
            // A waiter behind the one that will be cancelled.
            let (queued, is_queued) = signal();
            let behind = keen::spawn({
                let mutex = mutex.clone();
                async move {
                    keen::time::sleep(MS).await; // queue after the cancelled one
                    *announce_pending(mutex.lock(), queued).await += 1;
                }
            });
            let cancelled = keen::scope::move_on_after(5 * MS, mutex.lock()).await;
            assert!(
                cancelled.is_none(),
                "the lock was held: the scope must time out"
            );
            is_queued.await;
            drop(guard);
            behind.await.unwrap();
            *mutex.lock().await += 1;
            assert_eq!(*mutex.lock().await, 2);
            assert!(mutex.try_lock().is_ok());
        });
    });
}

#[test]
fn an_aborted_task_handed_the_lock_passes_it_on() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let mutex = Arc::new(Mutex::new(Vec::new()));
            let guard = mutex.lock().await;
            let (queued, is_queued) = signal();
            let first = keen::spawn({
                let mutex = mutex.clone();
                async move { announce_pending(mutex.lock(), queued).await.push("first") }
            });
            is_queued.await;
            let (queued, is_queued) = signal();
            let second = keen::spawn({
                let mutex = mutex.clone();
                async move { announce_pending(mutex.lock(), queued).await.push("second") }
            });
            is_queued.await;
            // Hand the lock to `first`, then abort it before it runs (on a
            // current-thread runtime it cannot run in between; on a
            // multi-thread one it may win the race, which is also fine).
            drop(guard);
            first.abort();
            let first_ran = first.await.is_ok();
            second.await.unwrap();
            let log = mutex.lock().await.clone();
            if first_ran {
                assert!(
                    cfg.is_multi_thread(),
                    "abort before the task ran must win here"
                );
                assert_eq!(log, ["first", "second"]);
            } else {
                assert_eq!(log, ["second"]);
            }
        });
    });
}

#[test]
fn owned_guards_move_into_tasks_and_threads() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mutex = Arc::new(Mutex::new(0));
            let mut guard = mutex.clone().lock_owned().await;
            *guard += 1;
            keen::spawn(async move {
                yield_now().await;
                *guard += 1;
            })
            .await
            .unwrap();
            let guard = mutex.clone().try_lock_owned().unwrap();
            let done = keen::spawn_blocking(move || {
                let mut guard = guard;
                *guard += 1;
            });
            done.await.unwrap();
            assert_eq!(*mutex.lock().await, 3);
        });
    });
}

#[test]
fn plain_threads_and_tasks_share_one_lock() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let mutex = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let mutex = mutex.clone();
                thread::spawn(move || {
                    for _ in 0..500 {
                        *mutex.blocking_lock() += 1;
                    }
                })
            })
            .collect();
        run_in_task(&rt, {
            let mutex = mutex.clone();
            async move {
                let tasks: Vec<_> = (0..4)
                    .map(|_| {
                        let mutex = mutex.clone();
                        keen::spawn(async move {
                            for _ in 0..500 {
                                let mut guard = mutex.lock().await;
                                yield_now().await;
                                *guard += 1;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*mutex.blocking_lock(), 3500);
    });
}

#[test]
fn blocking_lock_inside_spawn_blocking_waits_for_a_task() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mutex = Arc::new(Mutex::new(0));
            let guard = mutex.lock().await;
            let (queued_tx, queued_rx) = std::sync::mpsc::channel();
            let blocked = keen::spawn_blocking({
                let mutex = mutex.clone();
                move || {
                    queued_tx.send(()).unwrap();
                    *mutex.blocking_lock() += 1;
                }
            });
            // Wait (without blocking a worker) until the thread is about
            // to lock; it then queues behind `guard` whatever the timing.
            while queued_rx.try_recv().is_err() {
                yield_now().await;
            }
            drop(guard);
            blocked.await.unwrap();
            assert_eq!(*mutex.lock().await, 1);
        });
    });
}

#[test]
fn one_mutex_used_from_two_runtimes_at_once() {
    let mutex = Arc::new(Mutex::new(0u64));
    let runtimes = [ALL[0], ALL[2]];
    let handles: Vec<_> = runtimes
        .into_iter()
        .map(|cfg| {
            let mutex = mutex.clone();
            thread::spawn(move || {
                let rt = cfg.build();
                run_in_task(&rt, async move {
                    let tasks: Vec<_> = (0..50)
                        .map(|_| {
                            let mutex = mutex.clone();
                            keen::spawn(async move {
                                for _ in 0..20 {
                                    let mut guard = mutex.lock().await;
                                    yield_now().await;
                                    *guard += 1;
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                });
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*mutex.blocking_lock(), 2 * 50 * 20);
}

#[test]
fn blocking_lock_inside_a_task_or_block_on_panics() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let message = run_in_task(&rt, async {
            let mutex = Mutex::new(());
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                drop(mutex.blocking_lock());
            }));
            panic_message(&*caught.unwrap_err())
        });
        assert!(message.contains("Mutex::blocking_lock"), "{message}");
        assert!(message.contains("async context"), "{message}");
        let caught = rt.block_on(async {
            std::panic::catch_unwind(|| drop(Mutex::new(()).blocking_lock())).is_err()
        });
        assert!(caught, "blocking_lock in block_on must panic");
    });
}
