//! Loom models of the state word alone: reference counts reach zero exactly
//! once however wakes, completion and the join handle interleave. Compiled
//! as a library module under `cfg(all(test, loom))`; see `loom_task.rs`.

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

use crate::task::state::{INITIAL_EAGER, REF_ONE, State, ToNotified};

#[test]
fn loom_last_reference_is_seen_once() {
    loom::model(|| {
        // Handle + poller + one waker.
        let state = Arc::new(State::new(INITIAL_EAGER + REF_ONE));
        let frees = Arc::new(AtomicUsize::new(0));
        let (s1, f1) = (state.clone(), frees.clone());
        let poller = thread::spawn(move || {
            let _ = s1.transition_to_complete();
            if s1.ref_dec() {
                f1.fetch_add(1, SeqCst);
            }
        });
        let (s2, f2) = (state.clone(), frees.clone());
        let waker = thread::spawn(move || {
            if s2.transition_to_notified_by_val() == ToNotified::Dealloc {
                f2.fetch_add(1, SeqCst);
            }
        });
        // The join handle.
        let _ = state.unset_join_interest();
        if state.ref_dec() {
            frees.fetch_add(1, SeqCst);
        }
        poller.join().unwrap();
        waker.join().unwrap();
        assert_eq!(frees.load(SeqCst), 1);
    });
}
