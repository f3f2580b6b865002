//! Loom models of the `JoinSet`'s wake queue (`wake_queue.rs`): a task
//! finishing on another thread while the set clears an entry's queued mark
//! and polls it is never lost (the poll sees the finish, or the entry is
//! queued again), the set's waiter registration racing a wake is woken,
//! and two wakes racing queue the entry once. Compiled as a module of
//! `task::join_set` under `cfg(all(test, loom))` (it needs the private
//! wake queue); see `loom_semaphore.rs` for how to run it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::Waker;

use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::AcqRel;
use loom::thread;

use super::wake_queue::{EntryWaker, Shared};
use crate::loom_support::counting_waker;

/// The task-state bit of a finished task, in the models' state word.
const FINISHED: usize = 1;

/// Takes the woken entries' keys (registering a no-op waiter if none).
fn woken(shared: &Shared) -> Vec<usize> {
    let mut out = VecDeque::new();
    shared.take_woken(&mut out, Waker::noop());
    out.iter().map(|entry| entry.key).collect()
}

/// The set clears entry 0's mark and polls it while the task finishes on
/// another thread and wakes the entry. If the poll missed the finish, the
/// entry is queued for the next look. The task's state is a word that the
/// handle's poll and the task's completion both read-modify-write, as the
/// real task state is (a plain load there would be a store-buffering
/// pattern, which loom, modelling `SeqCst` as `AcqRel`, reports falsely).
#[test]
fn loom_join_set_finish_racing_clear_then_poll_is_never_lost() {
    loom::model(|| {
        let shared = Arc::new(Shared::default());
        let entry = EntryWaker::new(0, &shared);
        let state = Arc::new(AtomicUsize::new(0));
        let task = {
            let (entry, state) = (entry.clone(), state.clone());
            thread::spawn(move || {
                state.fetch_or(FINISHED, AcqRel);
                Waker::from(entry).wake();
            })
        };
        entry.clear();
        let saw_finish = state.fetch_or(0, AcqRel) & FINISHED != 0;
        task.join().unwrap();
        if !saw_finish {
            assert_eq!(woken(&shared), [0], "the finish was lost");
        }
    });
}

/// The set registers its waiter (nothing woken yet) while an entry is
/// woken on another thread: the set got the entry, or its waiter is woken
/// and the entry is there on the next look.
#[test]
fn loom_join_set_waiter_registration_racing_a_wake() {
    loom::model(|| {
        let shared = Arc::new(Shared::default());
        let entry = EntryWaker::new(0, &shared);
        entry.clear();
        let task = thread::spawn(move || Waker::from(entry).wake());
        let (waiter_woken, waiter) = counting_waker();
        let mut out = VecDeque::new();
        let got = shared.take_woken(&mut out, &waiter);
        task.join().unwrap();
        if !got {
            assert!(waiter_woken.woken(), "the set's waiter missed the wake");
            assert_eq!(woken(&shared), [0]);
        } else {
            assert_eq!(out.len(), 1);
        }
    });
}

/// Two wakes of one entry race on two threads: the entry is queued once
/// and the registered waiter woken once.
#[test]
fn loom_join_set_two_wakes_queue_the_entry_once() {
    loom::model(|| {
        let shared = Arc::new(Shared::default());
        let (waiter_woken, waiter) = counting_waker();
        assert!(!shared.take_woken(&mut VecDeque::new(), &waiter));
        let entry = EntryWaker::new(0, &shared);
        entry.clear();
        let wakers: Vec<_> = (0..2)
            .map(|_| {
                let entry = entry.clone();
                thread::spawn(move || Waker::from(entry).wake())
            })
            .collect();
        for waker in wakers {
            waker.join().unwrap();
        }
        assert_eq!(woken(&shared), [0], "queued once");
        assert_eq!(waiter_woken.get(), 1);
    });
}
