//! Loom models of `Barrier` (a `WaitList` under a lock; the `n`-th arrival
//! grants the queue) and `OnceCell` (std's `OnceLock` for the value, seen
//! by loom through the `crate::loom` wrapper, and a one-permit
//! `RawSemaphore` for the right to initialise): exactly one leader per
//! generation, a cancelled arrival racing the last one is withdrawn or
//! served and leaves no stale count, the initialiser runs once and every
//! caller sees its value, a cancelled initialiser hands the job to the
//! next caller, and a value read without waiting is always complete. Run
//! with `RUSTFLAGS="--cfg loom --cfg crossbeam_loom"
//! LOOM_MAX_PREEMPTIONS=2 cargo test -p keen --release --lib loom_barrier_once`.

use std::sync::atomic::Ordering::SeqCst;
use std::task::Poll;

use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::thread;

use crate::loom_support::poll_once;
use crate::sync::{Barrier, OnceCell, SetError};

/// Two or three arrivals on as many threads: exactly one is the leader.
#[test]
fn loom_barrier_has_exactly_one_leader() {
    for n in [2, 3] {
        loom::model(move || {
            let barrier = Arc::new(Barrier::new(n));
            let others: Vec<_> = (1..n)
                .map(|_| {
                    let barrier = barrier.clone();
                    thread::spawn(move || block_on(barrier.wait()).is_leader())
                })
                .collect();
            let mut leaders = usize::from(block_on(barrier.wait()).is_leader());
            for other in others {
                leaders += usize::from(other.join().unwrap());
            }
            assert_eq!(leaders, 1);
        });
    }
}

/// Two tasks pass a barrier of two twice: one leader in each generation
/// (an early second arrival never joins the first generation).
#[test]
fn loom_barrier_one_leader_per_generation() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let other = {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let first = block_on(barrier.wait()).is_leader();
                (first, block_on(barrier.wait()).is_leader())
            })
        };
        let first = block_on(barrier.wait()).is_leader();
        let second = block_on(barrier.wait()).is_leader();
        let (other_first, other_second) = other.join().unwrap();
        assert!(first ^ other_first, "generation 1");
        assert!(second ^ other_second, "generation 2");
    });
}

/// A barrier of two: a waiting arrival is cancelled while the second
/// arrives on another thread. Either the second completed the generation
/// (as leader) before the drop, or the cancelled arrival was withdrawn
/// and the second one, alone, did not pass (certainly so if it arrived
/// after the drop). Either way nothing stale is
/// left: a fresh pair passes with exactly one leader, the second.
#[test]
fn loom_cancelled_arrival_racing_the_last_one() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let mut first = Box::pin(barrier.wait());
        assert!(poll_once(first.as_mut()).is_pending());
        let dropped = Arc::new(AtomicBool::new(false));
        let last = {
            let (barrier, dropped) = (barrier.clone(), dropped.clone());
            thread::spawn(move || {
                let after_drop = dropped.load(SeqCst);
                let passed = match poll_once(std::pin::pin!(barrier.wait())) {
                    Poll::Ready(result) => {
                        assert!(result.is_leader(), "the last arrival leads");
                        true
                    }
                    Poll::Pending => false, // alone: give up (withdraws)
                };
                assert!(!(after_drop && passed), "a withdrawn arrival still counted");
            })
        };
        drop(first);
        dropped.store(true, SeqCst);
        last.join().unwrap();
        let mut a = std::pin::pin!(barrier.wait());
        assert!(
            poll_once(a.as_mut()).is_pending(),
            "a stale arrival was counted"
        );
        let b = poll_once(std::pin::pin!(barrier.wait()));
        assert!(matches!(b, Poll::Ready(ref r) if r.is_leader()));
        assert!(matches!(poll_once(a.as_mut()), Poll::Ready(ref r) if !r.is_leader()));
    });
}

/// Two `get_or_init` race: the initialiser runs once and both see its
/// value.
#[test]
fn loom_once_cell_racing_initialisers_run_once() {
    loom::model(|| {
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let init = |runs: Arc<AtomicUsize>| {
            move || async move {
                runs.fetch_add(1, SeqCst);
                7
            }
        };
        let other = {
            let (cell, runs) = (cell.clone(), runs.clone());
            thread::spawn(move || *block_on(cell.get_or_init(init(runs))))
        };
        assert_eq!(*block_on(cell.get_or_init(init(runs.clone()))), 7);
        assert_eq!(other.join().unwrap(), 7);
        assert_eq!(runs.load(SeqCst), 1, "the initialiser ran twice");
    });
}

/// The caller running the initialiser is cancelled while a second caller
/// arrives: the second one initialises (it gets the permit back, whether
/// it queued before or after the drop).
#[test]
fn loom_cancelled_initialiser_hands_over_to_the_next_caller() {
    loom::model(|| {
        let cell = Arc::new(OnceCell::new());
        let mut stuck = Box::pin(cell.get_or_init(std::future::pending::<usize>));
        assert!(
            poll_once(stuck.as_mut()).is_pending(),
            "it holds the permit"
        );
        let second = {
            let cell = cell.clone();
            thread::spawn(move || *block_on(cell.get_or_init(|| async { 2 })))
        };
        drop(stuck);
        assert_eq!(second.join().unwrap(), 2);
        assert_eq!(cell.get(), Some(&2));
    });
}

/// `set` races `get_or_init`: one of them stores, the other gets the
/// right error or the stored value, and both agree with the cell.
#[test]
fn loom_once_cell_set_racing_get_or_init() {
    loom::model(|| {
        let cell = Arc::new(OnceCell::new());
        let setter = {
            let cell = cell.clone();
            thread::spawn(move || cell.set(1))
        };
        let got = *block_on(cell.get_or_init(|| async { 2 }));
        match setter.join().unwrap() {
            Ok(()) => assert_eq!(got, 1),
            Err(SetError::InitializingError(1) | SetError::AlreadyInitializedError(1)) => {
                assert_eq!(got, 2);
            }
            Err(other) => panic!("{other:?}"),
        }
        assert_eq!(cell.get(), Some(&got));
    });
}

/// `get` and `initialized` race an initialiser on another thread: they
/// see nothing or the whole value, never a cell that says initialised
/// without its value.
#[test]
fn loom_once_cell_get_racing_an_initialiser() {
    loom::model(|| {
        let cell = Arc::new(OnceCell::new());
        let init = {
            let cell = cell.clone();
            thread::spawn(move || *block_on(cell.get_or_init(|| async { 5 })))
        };
        let initialized = cell.initialized();
        if let Some(&v) = cell.get() {
            assert_eq!(v, 5);
        } else {
            assert!(!initialized);
        }
        assert_eq!(init.join().unwrap(), 5);
        assert_eq!(cell.get(), Some(&5));
    });
}
