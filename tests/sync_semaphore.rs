//! `keen::sync::Semaphore` on every runtime configuration: the permit count
//! is never exceeded under contention, FIFO service (a large request at the
//! front holds back smaller ones; `try_acquire` cannot barge), cancel-safety
//! of a waiting acquire (dropped while queued, dropped after permits were
//! handed to it, cancelled by a keen scope), `close`, `add_permits`,
//! `forget`, owned permits moved across tasks and threads, and permits
//! returned from plain threads waking tasks on two runtimes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use keen::sync::{Semaphore, TryAcquireError};
use keen::task::yield_now;
use keen_suite::{ALL, announce_pending, each, poll_once, run_in_task, signal};

const MS: Duration = Duration::from_millis(1);

#[test]
fn concurrency_never_exceeds_the_permits() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (max, done, left) = run_in_task(&rt, async {
            let sem = Arc::new(Semaphore::new(3));
            let active = Arc::new(AtomicUsize::new(0));
            let max = Arc::new(AtomicUsize::new(0));
            let done = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..300)
                .map(|i| {
                    let (sem, active, max, done) =
                        (sem.clone(), active.clone(), max.clone(), done.clone());
                    keen::spawn(async move {
                        let n = 1 + (i % 2) as u32; // mix single and double requests
                        let _permit = sem.acquire_many(n).await.unwrap();
                        let now = active.fetch_add(n as usize, Ordering::SeqCst) + n as usize;
                        max.fetch_max(now, Ordering::SeqCst);
                        for _ in 0..3 {
                            yield_now().await;
                        }
                        active.fetch_sub(n as usize, Ordering::SeqCst);
                        done.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            (
                max.load(Ordering::SeqCst),
                done.load(Ordering::SeqCst),
                sem.available_permits(),
            )
        });
        assert!(max <= 3, "{max} permits in use at once out of 3");
        assert!(
            max >= 2,
            "the tasks never overlapped: the test proves nothing"
        );
        assert_eq!(done, 300);
        assert_eq!(left, 3, "permits were lost");
    });
}

#[test]
fn waiters_are_served_in_order_and_a_big_request_holds_back_small_ones() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut big = Box::pin(sem.acquire_many(2));
    let mut small = Box::pin(sem.acquire());
    assert!(poll_once(&mut big).is_pending());
    assert!(poll_once(&mut small).is_pending());
    drop(held);
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(
        sem.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits,
        "no barging"
    );
    assert!(poll_once(&mut small).is_pending(), "`big` is first in line");
    sem.add_permits(1);
    let big_permit = poll_once(&mut big);
    assert!(big_permit.is_ready());
    assert!(poll_once(&mut small).is_pending());
    drop(big_permit);
    assert!(poll_once(&mut small).is_ready());
    drop(small);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn tasks_get_permits_in_arrival_order() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let order = run_in_task(&rt, async {
            let sem = Arc::new(Semaphore::new(0));
            let order = Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut tasks = Vec::new();
            for i in 0..10 {
                let (queued, is_queued) = signal();
                let (sem, order) = (sem.clone(), order.clone());
                tasks.push(keen::spawn(async move {
                    let _permit = announce_pending(sem.acquire(), queued).await.unwrap();
                    order.lock().unwrap().push(i);
                    // Keep the permit until every task has one, so each
                    // permit added below is a fresh hand-out.
                    while order.lock().unwrap().len() < 10 {
                        yield_now().await;
                    }
                }));
                is_queued.await;
            }
            for served in 1..=10 {
                sem.add_permits(1);
                // One hand-out at a time, so the log order is the grant order.
                while order.lock().unwrap().len() < served {
                    yield_now().await;
                }
            }
            for task in tasks {
                task.await.unwrap();
            }
            order.lock().unwrap().clone()
        });
        assert_eq!(order, (0..10).collect::<Vec<_>>());
    });
}

/// Waiters that give up after a few polls, racing the grants other workers
/// make: a grant now frees the waiter's node at once and the waiter learns
/// of it from its ticket, so an acquire dropped between its grant and its
/// next poll must pass the permits on, and a freed key handed to a new
/// waiter must not be mistaken for the old one. Whatever the interleaving,
/// the limit holds and every permit comes back.
#[test]
fn waiters_giving_up_while_grants_race_them_lose_and_duplicate_nothing() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (max, got, gave_up, left) = run_in_task(&rt, async {
            let sem = Arc::new(Semaphore::new(3));
            let active = Arc::new(AtomicUsize::new(0));
            let max = Arc::new(AtomicUsize::new(0));
            let got = Arc::new(AtomicUsize::new(0));
            let gave_up = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..400usize)
                .map(|i| {
                    let (sem, active, max, got, gave_up) = (
                        sem.clone(),
                        active.clone(),
                        max.clone(),
                        got.clone(),
                        gave_up.clone(),
                    );
                    keen::spawn(async move {
                        let n = 1 + (i % 3) as u32;
                        let patience = i % 5; // polls before giving up
                        let mut acquire = Box::pin(sem.acquire_many(n));
                        let mut polls = 0;
                        let permit = std::future::poll_fn(|cx| match acquire.as_mut().poll(cx) {
                            std::task::Poll::Ready(p) => std::task::Poll::Ready(Some(p)),
                            std::task::Poll::Pending if polls >= patience => {
                                std::task::Poll::Ready(None)
                            }
                            std::task::Poll::Pending => {
                                polls += 1;
                                cx.waker().wake_by_ref();
                                std::task::Poll::Pending
                            }
                        })
                        .await;
                        // The acquire is dropped here if it gave up.
                        drop(acquire);
                        let Some(permit) = permit else {
                            gave_up.fetch_add(1, Ordering::SeqCst);
                            return;
                        };
                        let _permit = permit.unwrap();
                        let now = active.fetch_add(n as usize, Ordering::SeqCst) + n as usize;
                        max.fetch_max(now, Ordering::SeqCst);
                        yield_now().await;
                        active.fetch_sub(n as usize, Ordering::SeqCst);
                        got.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            (
                max.load(Ordering::SeqCst),
                got.load(Ordering::SeqCst),
                gave_up.load(Ordering::SeqCst),
                sem.available_permits(),
            )
        });
        assert!(max <= 3, "{max} permits in use at once out of 3");
        assert_eq!(got + gave_up, 400);
        assert!(
            got > 0 && gave_up > 0,
            "got {got}, gave up {gave_up}: the test exercised one path only"
        );
        assert_eq!(left, 3, "permits were lost or duplicated");
    });
}

#[test]
fn dropped_waiters_lose_no_permit() {
    let sem = Semaphore::new(0);
    // Dropped while queued.
    let mut queued = Box::pin(sem.acquire_many(3));
    assert!(poll_once(&mut queued).is_pending());
    drop(queued);
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), 1);

    // Dropped after permits were handed to it: they go to the next waiter.
    let held = sem.try_acquire().unwrap();
    let mut first = Box::pin(sem.acquire());
    let mut second = Box::pin(sem.acquire());
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    drop(held); // handed to `first`
    assert_eq!(sem.available_permits(), 0);
    drop(first);
    let permit = poll_once(&mut second);
    assert!(
        permit.is_ready(),
        "the permit handed to the dropped waiter was lost"
    );
    drop(permit);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn a_scope_timing_out_an_acquire_leaves_the_semaphore_whole() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let sem = Arc::new(Semaphore::new(2));
            let held = sem.acquire_many(2).await.unwrap();
            let timed_out = keen::scope::move_on_after(10 * MS, sem.acquire()).await;
            assert!(timed_out.is_none());
            let (queued, is_queued) = signal();
            let later = keen::spawn({
                let sem = sem.clone();
                async move {
                    announce_pending(sem.acquire_many(2), queued)
                        .await
                        .map(|p| p.forget())
                }
            });
            is_queued.await;
            drop(held);
            later.await.unwrap().unwrap();
            assert_eq!(
                sem.available_permits(),
                0,
                "the forgotten permits were the two released"
            );
            sem.add_permits(2);
            assert!(sem.try_acquire_many(2).is_ok());
        });
    });
}

#[test]
fn close_fails_waiters_and_new_acquires_but_permits_still_return() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let sem = Arc::new(Semaphore::new(1));
            let held = sem.acquire().await.unwrap();
            let mut waiters = Vec::new();
            for _ in 0..5 {
                let (queued, is_queued) = signal();
                let sem = sem.clone();
                waiters.push(keen::spawn(async move {
                    announce_pending(sem.acquire(), queued).await.is_err()
                }));
                is_queued.await;
            }
            sem.close();
            for w in waiters {
                assert!(
                    w.await.unwrap(),
                    "a waiter got a permit from a closed semaphore"
                );
            }
            assert!(sem.is_closed());
            assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
            assert!(sem.acquire().await.is_err());
            drop(held);
            assert_eq!(sem.available_permits(), 1);
        });
    });
}

#[test]
fn forget_and_forget_permits_take_permits_out() {
    let sem = Semaphore::new(5);
    sem.try_acquire_many(2).unwrap().forget();
    assert_eq!(sem.available_permits(), 3);
    assert_eq!(sem.forget_permits(10), 3);
    assert_eq!(sem.available_permits(), 0);
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
#[should_panic(expected = "overflow")]
fn add_permits_past_the_maximum_panics() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    sem.add_permits(1);
}

#[test]
fn owned_permits_released_on_plain_threads_wake_tasks() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let sem = Arc::new(Semaphore::new(2));
        let (to_thread, from_task) = std::sync::mpsc::channel();
        let releaser = thread::spawn(move || {
            // Hold each permit briefly, then drop it here, off the runtime.
            for permit in from_task {
                drop::<keen::sync::OwnedSemaphorePermit>(permit);
            }
        });
        let total = run_in_task(&rt, {
            let sem = sem.clone();
            async move {
                let mut total = 0;
                for _ in 0..200 {
                    let permit = sem.clone().acquire_owned().await.unwrap();
                    total += permit.num_permits();
                    to_thread.send(permit).unwrap();
                }
                total
            }
        });
        releaser.join().unwrap();
        assert_eq!(total, 200);
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn one_semaphore_shared_by_two_runtimes_and_threads() {
    let sem = Arc::new(Semaphore::new(2));
    let active = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let work = {
        let (active, max) = (active.clone(), max.clone());
        move || {
            let now = active.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(now, Ordering::SeqCst);
            thread::yield_now();
            active.fetch_sub(1, Ordering::SeqCst);
        }
    };
    let mut handles = Vec::new();
    for cfg in [ALL[0], ALL[2]] {
        let (sem, work) = (sem.clone(), work.clone());
        handles.push(thread::spawn(move || {
            let rt = cfg.build();
            run_in_task(&rt, async move {
                let tasks: Vec<_> = (0..50)
                    .map(|_| {
                        let (sem, work) = (sem.clone(), work.clone());
                        keen::spawn(async move {
                            for _ in 0..10 {
                                let _p = sem.acquire().await.unwrap();
                                work();
                                yield_now().await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            });
        }));
    }
    for _ in 0..2 {
        let (sem, work) = (sem.clone(), work.clone());
        handles.push(thread::spawn(move || {
            for _ in 0..200 {
                // A plain thread waits without a runtime, through a permit
                // it polls on the spot (here: `try_acquire` in a loop).
                let permit = loop {
                    match sem.try_acquire() {
                        Ok(p) => break p,
                        Err(_) => thread::yield_now(),
                    }
                };
                work();
                drop(permit);
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    assert!(max.load(Ordering::SeqCst) <= 2);
    assert_eq!(sem.available_permits(), 2);
}

/// Drives `future` on this thread, parking between polls: the cheapest
/// executor there is, so that the racing threads below spend their time in
/// the semaphore rather than in building runtimes.
fn park_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// Three threads cycle acquire/release from outside any runtime while a
/// fourth forgets a permit and adds it back. `forget` takes free permits without
/// the queue's lock, so a hand-off that read the free count before the
/// forget must not subtract from the count after it: before the fix the
/// count wrapped to ~2^62 within a fraction of a second and every later
/// permit drop panicked. The count must never exceed 2, and end at 2.
#[test]
fn forget_racing_a_hand_off_never_corrupts_the_count() {
    const ROUNDS: usize = 100_000;
    let sem = Arc::new(Semaphore::new(2));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cyclers: Vec<_> = (0..3)
        .map(|_| {
            let sem = sem.clone();
            thread::spawn(move || {
                for _ in 0..ROUNDS {
                    let permit = park_on(sem.acquire()).unwrap();
                    assert!(sem.available_permits() <= 1, "one is held here");
                    // Hold it a moment, so the third thread queues and
                    // releases become hand-offs.
                    for _ in 0..64 {
                        std::hint::spin_loop();
                    }
                    drop(permit);
                }
            })
        })
        .collect();
    let forgetter = {
        let (sem, stop) = (sem.clone(), stop.clone());
        thread::spawn(move || {
            let mut max_seen = 0;
            while !stop.load(Ordering::Relaxed) {
                if sem.forget_permits(1) == 1 {
                    max_seen = max_seen.max(sem.available_permits());
                    sem.add_permits(1);
                }
                max_seen = max_seen.max(sem.available_permits());
            }
            max_seen
        })
    };
    for t in cyclers {
        t.join()
            .expect("a permit drop panicked: the count was corrupted");
    }
    stop.store(true, Ordering::Relaxed);
    let max_seen = forgetter.join().unwrap();
    assert!(
        max_seen <= 2,
        "saw {max_seen} permits available on a 2-permit semaphore"
    );
    assert_eq!(sem.available_permits(), 2);
}

/// The same race with tasks on every configuration: two tasks hold and
/// release (one at a time each, so hand-offs happen whenever both wait)
/// while a plain thread forgets and re-adds permits.
#[test]
fn forget_racing_task_hand_offs_keeps_the_limit() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let sem = Arc::new(Semaphore::new(2));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let forgetter = {
            let (sem, stop) = (sem.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if sem.forget_permits(1) == 1 {
                        sem.add_permits(1);
                    }
                    thread::yield_now();
                }
            })
        };
        let active = Arc::new(AtomicUsize::new(0));
        run_in_task(&rt, {
            let (sem, active) = (sem.clone(), active.clone());
            async move {
                let workers: Vec<_> = (0..4)
                    .map(|_| {
                        let (sem, active) = (sem.clone(), active.clone());
                        keen::spawn(async move {
                            for _ in 0..2_000 {
                                let _permit = sem.acquire().await.unwrap();
                                let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                                assert!(now <= 2, "{now} holders of 2 permits");
                                assert!(sem.available_permits() <= 2);
                                yield_now().await;
                                active.fetch_sub(1, Ordering::SeqCst);
                            }
                        })
                    })
                    .collect();
                for w in workers {
                    w.await.unwrap();
                }
            }
        });
        stop.store(true, Ordering::Relaxed);
        forgetter.join().unwrap();
        assert_eq!(sem.available_permits(), 2, "{cfg:?}");
    });
}
