//! `keen::sync::Barrier` and `keen::sync::OnceCell` on every runtime
//! configuration. Barrier: nobody passes before the `n`-th arrival, exactly
//! one leader per generation, reuse over many generations, and a waiter
//! dropped while waiting withdraws its arrival (keen's documented
//! difference from tokio). OnceCell: the initialiser runs exactly once
//! under racing tasks and plain threads, `set` reports the right error, a
//! cancelled (or failing, or panicking) initialiser lets the next caller
//! initialise, and `take` makes the cell usable again.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::thread;

use keen::sync::{Barrier, OnceCell, SetError};
use keen::task::yield_now;
use keen_suite::{ALL, announce_pending, each, poll_once, run_in_task, signal};

#[test]
fn one_leader_per_generation_and_nobody_passes_early() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            const N: usize = 5;
            const GENERATIONS: usize = 50;
            let barrier = Arc::new(Barrier::new(N));
            let leaders = Arc::new(AtomicUsize::new(0));
            let passed = Arc::new(AtomicUsize::new(0));
            let arrived = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..N)
                .map(|_| {
                    let (barrier, leaders, passed, arrived) = (
                        barrier.clone(),
                        leaders.clone(),
                        passed.clone(),
                        arrived.clone(),
                    );
                    keen::spawn(async move {
                        for generation in 0..GENERATIONS {
                            arrived.fetch_add(1, Ordering::SeqCst);
                            let result = barrier.wait().await;
                            // Everyone of this generation arrived before anyone passed.
                            assert!(arrived.load(Ordering::SeqCst) >= (generation + 1) * N);
                            if result.is_leader() {
                                leaders.fetch_add(1, Ordering::SeqCst);
                            }
                            passed.fetch_add(1, Ordering::SeqCst);
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(
                leaders.load(Ordering::SeqCst),
                GENERATIONS,
                "one leader each time"
            );
            assert_eq!(passed.load(Ordering::SeqCst), GENERATIONS * N);
        });
    });
}

#[test]
fn the_last_arrival_is_the_leader_and_the_barrier_resets() {
    let barrier = Barrier::new(3);
    for _generation in 0..3 {
        let mut a = Box::pin(barrier.wait());
        let mut b = Box::pin(barrier.wait());
        assert!(poll_once(&mut a).is_pending());
        assert!(poll_once(&mut b).is_pending());
        assert!(poll_once(&mut a).is_pending(), "two of three arrived");
        let mut c = Box::pin(barrier.wait());
        let Poll::Ready(leader) = poll_once(&mut c) else {
            panic!("the third arrival completes the generation")
        };
        assert!(leader.is_leader());
        for f in [&mut a, &mut b] {
            let Poll::Ready(result) = poll_once(f) else {
                panic!("released")
            };
            assert!(!result.is_leader());
        }
    }
    let zero = Barrier::new(0);
    assert!(keen::block_on(zero.wait()).is_leader(), "0 is taken as 1");
}

#[test]
fn a_cancelled_wait_withdraws_its_arrival() {
    let barrier = Barrier::new(2);
    let mut a = Box::pin(barrier.wait());
    assert!(poll_once(&mut a).is_pending());
    drop(a); // withdrawn: the barrier is empty again
    let mut b = Box::pin(barrier.wait());
    assert!(
        poll_once(&mut b).is_pending(),
        "b must not pass with a's withdrawn arrival"
    );
    let mut c = Box::pin(barrier.wait());
    assert!(poll_once(&mut c).is_ready());
    assert!(poll_once(&mut b).is_ready());

    // Dropped after its generation completed: the others are not affected.
    let mut a = Box::pin(barrier.wait());
    assert!(poll_once(&mut a).is_pending());
    let mut leader = Box::pin(barrier.wait());
    assert!(poll_once(&mut leader).is_ready());
    drop(a);
    let mut next = Box::pin(barrier.wait());
    assert!(
        poll_once(&mut next).is_pending(),
        "a new generation starts empty"
    );
}

#[test]
fn a_barrier_shared_by_threads_and_tasks() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let barrier = Arc::new(Barrier::new(4));
        let leaders = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (barrier, leaders) = (barrier.clone(), leaders.clone());
                thread::spawn(move || {
                    for _ in 0..100 {
                        if keen::block_on(barrier.wait()).is_leader() {
                            leaders.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        run_in_task(&rt, {
            let (barrier, leaders) = (barrier.clone(), leaders.clone());
            async move {
                let tasks: Vec<_> = (0..2)
                    .map(|_| {
                        let (barrier, leaders) = (barrier.clone(), leaders.clone());
                        keen::spawn(async move {
                            for _ in 0..100 {
                                if barrier.wait().await.is_leader() {
                                    leaders.fetch_add(1, Ordering::SeqCst);
                                }
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
        assert_eq!(leaders.load(Ordering::SeqCst), 100);
    });
}

#[test]
fn once_cell_initialises_exactly_once_under_racing_callers() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let (cell, runs) = (cell.clone(), runs.clone());
                thread::spawn(move || {
                    keen::block_on(cell.get_or_init(|| async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        100 + t
                    }))
                    .to_owned()
                })
            })
            .collect();
        let from_tasks = run_in_task(&rt, {
            let (cell, runs) = (cell.clone(), runs.clone());
            async move {
                let tasks: Vec<_> = (0..50)
                    .map(|i| {
                        let (cell, runs) = (cell.clone(), runs.clone());
                        keen::spawn(async move {
                            *cell
                                .get_or_init(|| async move {
                                    runs.fetch_add(1, Ordering::SeqCst);
                                    yield_now().await; // others queue meanwhile
                                    i
                                })
                                .await
                        })
                    })
                    .collect();
                let mut seen = Vec::new();
                for task in tasks {
                    seen.push(task.await.unwrap());
                }
                seen
            }
        });
        let from_threads: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(runs.load(Ordering::SeqCst), 1, "the initialiser ran once");
        let value = *cell.get().unwrap();
        assert!(from_tasks.iter().chain(&from_threads).all(|&v| v == value));
    });
}

#[test]
fn a_cancelled_initialiser_lets_the_next_caller_initialise() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let cell = Arc::new(OnceCell::new());
            // The first initialiser never finishes; a second caller queues.
            let (started, has_started) = signal();
            let first = keen::spawn({
                let cell = cell.clone();
                async move {
                    *cell
                        .get_or_init(|| async move {
                            started.fire();
                            std::future::pending::<u32>().await
                        })
                        .await
                }
            });
            has_started.await;
            assert!(cell.set(0).unwrap_err().is_initializing_err());
            let (queued, is_queued) = signal();
            let second = keen::spawn({
                let cell = cell.clone();
                async move { *announce_pending(cell.get_or_init(|| async { 2 }), queued).await }
            });
            is_queued.await;
            first.abort();
            assert!(first.await.is_err());
            assert_eq!(second.await.unwrap(), 2, "the queued caller initialised");
            assert_eq!(cell.get(), Some(&2));
        });
    });
}

#[test]
fn a_failed_or_panicking_initialiser_leaves_the_cell_empty() {
    let cell = OnceCell::new();
    keen::block_on(async {
        let failed = cell.get_or_try_init(|| async { Err::<u8, _>("no") }).await;
        assert_eq!(failed, Err("no"));
        assert!(!cell.initialized());
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            keen::block_on(cell.get_or_init(|| async { panic!("init failed") }))
        }));
        assert!(caught.is_err());
        assert!(!cell.initialized());
        assert_eq!(
            cell.get_or_try_init(|| async { Ok::<_, ()>(3) }).await,
            Ok(&3)
        );
    });
}

#[test]
fn set_take_and_the_rest_of_the_api() {
    let mut cell = OnceCell::new();
    assert_eq!(cell.set(1), Ok(()));
    assert_eq!(cell.set(2), Err(SetError::AlreadyInitializedError(2)));
    assert!(cell.set(3).unwrap_err().is_already_init_err());
    *cell.get_mut().unwrap() += 10;
    assert_eq!(cell.take(), Some(11));
    assert!(!cell.initialized());
    // The cell works again after `take`, including its async initialiser.
    assert_eq!(*keen::block_on(cell.get_or_init(|| async { 5 })), 5);
    assert_eq!(cell.clone().into_inner(), Some(5));
    assert_eq!(OnceCell::<u8>::new_with(None).into_inner(), None);
    static CELL: OnceCell<&str> = OnceCell::const_new();
    assert_eq!(
        *keen::block_on(CELL.get_or_init(|| async { "static" })),
        "static"
    );
}
