//! The task state word: every bit, and every transition as a safe atomic
//! operation that returns a `#[must_use]` action for the unsafe glue in
//! `harness.rs` to carry out. Nothing in this file is `unsafe`.
//!
//! | bit(s)   | name            | set while …                                                        |
//! |----------|-----------------|--------------------------------------------------------------------|
//! | 0        | `RUNNING`       | a thread polls the future (or drops it); it owns the stage          |
//! | 1        | `NOTIFIED`      | a wake is pending: the task is queued, or will be once the poll ends |
//! | 2        | `COMPLETE`      | the future is gone; the stage holds the output (or nothing)         |
//! | 3        | `CANCELLED`     | abort or shutdown asked the task to stop at its next chance          |
//! | 4        | `JOIN_INTEREST` | the `JoinHandle` is alive and owns the output once complete          |
//! | 5        | `JOIN_WAKER`    | the join-waker slot is filled and the task side may read it          |
//! | 6..      | ref count       | one per `JoinHandle`, `Notified`, owned-list entry, `Waker`, poller  |
//!
//! Never together: `RUNNING` and `COMPLETE`. `COMPLETE` is final; so is a
//! cleared `JOIN_INTEREST`.
//!
//! `INITIAL_EAGER` = `RUNNING | JOIN_INTEREST` with 2 references (the join
//! handle and the spawning thread that polls in place);
//! `INITIAL_LAZY` = `NOTIFIED | JOIN_INTEREST` with 3 references (the join
//! handle, the queued `Notified`, the owned-task list).

use crate::loom::{AtomicUsize, Ordering::*};

pub(crate) const RUNNING: usize = 1 << 0;
pub(crate) const NOTIFIED: usize = 1 << 1;
pub(crate) const COMPLETE: usize = 1 << 2;
pub(crate) const CANCELLED: usize = 1 << 3;
pub(crate) const JOIN_INTEREST: usize = 1 << 4;
pub(crate) const JOIN_WAKER: usize = 1 << 5;
const REF_SHIFT: u32 = 6;
pub(crate) const REF_ONE: usize = 1 << REF_SHIFT;

/// Polled in place by the spawner: handle + poller references.
pub(crate) const INITIAL_EAGER: usize = RUNNING | JOIN_INTEREST | (2 * REF_ONE);
/// Queued at once: handle + `Notified` + owned-list references.
pub(crate) const INITIAL_LAZY: usize = NOTIFIED | JOIN_INTEREST | (3 * REF_ONE);

/// A copy of the state word with named accessors.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(pub(crate) usize);

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
    }
    fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("notified", &self.is_notified())
            .field("complete", &self.is_complete())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .finish()
    }
}

/// Result of a queued task being picked up to run.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToRunning {
    /// Poll it.
    Success,
    /// Drop the future instead: it was aborted while queued.
    Cancelled,
    /// Already complete (cancelled by shutdown): drop the `Notified` only.
    Failed,
}

/// Result of a poll that returned `Pending`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// Nothing to do; the poller's reference is still to be dropped.
    Idle,
    /// Woken during the poll: the poller's reference becomes a `Notified`.
    Notified,
    /// Aborted during the poll: still `RUNNING`, drop the future now.
    Cancelled,
}

/// Result of a wake.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToNotified {
    /// Submit a `Notified` (which carries a reference) to the scheduler.
    Submit,
    /// Nothing to do.
    DoNothing,
    /// The last reference was dropped: free the task.
    Dealloc,
}

/// The state word.
#[derive(Debug)]
pub(crate) struct State(AtomicUsize);

impl State {
    pub(crate) fn new(initial: usize) -> State {
        State(AtomicUsize::new(initial))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    fn update<R>(&self, mut f: impl FnMut(Snapshot) -> (Option<usize>, R)) -> R {
        let mut current = self.0.load(Acquire);
        loop {
            let (next, result) = f(Snapshot(current));
            let Some(next) = next else { return result };
            match self.0.compare_exchange_weak(current, next, AcqRel, Acquire) {
                Ok(_) => return result,
                Err(actual) => current = actual,
            }
        }
    }

    /// A worker picked up a `Notified`: `NOTIFIED` → `RUNNING`.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.update(|s| {
            debug_assert!(s.is_notified() || s.is_complete(), "{s:?}");
            if !s.is_idle() {
                return (None, ToRunning::Failed);
            }
            let next = (s.0 | RUNNING) & !NOTIFIED;
            let action = if s.is_cancelled() {
                ToRunning::Cancelled
            } else {
                ToRunning::Success
            };
            (Some(next), action)
        })
    }

    /// A poll returned `Pending`: clear `RUNNING` unless aborted meanwhile.
    /// When woken during the poll, the poller's reference stays with the
    /// returned `Notified` action; otherwise the caller still holds it.
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.is_running(), "{s:?}");
            if s.is_cancelled() {
                return (None, ToIdle::Cancelled);
            }
            if s.is_notified() {
                (Some(s.0 & !RUNNING), ToIdle::Notified)
            } else {
                (Some(s.0 & !RUNNING), ToIdle::Idle)
            }
        })
    }

    /// The future is gone: `RUNNING` → `COMPLETE`. Returns the state before.
    #[must_use]
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_xor(RUNNING | COMPLETE, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete(), "{prev:?}");
        prev
    }

    /// Eager fast path: completes a task that finished in its eager poll
    /// with a plain store, dropping the poller's reference, if the word is
    /// still exactly `INITIAL_EAGER`. Then the join handle (not yet handed
    /// out) and the poller hold the only references and nothing else
    /// happened (no wake, abort or escaped waker clone), so no other thread
    /// can reach the word between the load and the store. `false`: nothing
    /// changed; take the general path.
    #[must_use]
    pub(crate) fn try_complete_exclusive(&self) -> bool {
        if self.0.load(Acquire) != INITIAL_EAGER {
            return false;
        }
        self.0.store(COMPLETE | JOIN_INTEREST | REF_ONE, Release);
        true
    }

    /// Eager fast path, for a task that finished in its eager poll: whether
    /// the word is `INITIAL_EAGER`, give or take `NOTIFIED`. Then the poller
    /// and the join handle (not handed out yet) hold the only references: no
    /// waker clone is alive and nothing was aborted, so no other thread can
    /// reach the task. A wake during the poll (the task woke itself, as
    /// `yield_now` does, or a clone woke it by value and is gone) only asked
    /// for another poll, which a finished task never gets. Acquire: a clone
    /// dropped on another thread is finished with the task before the
    /// poller frees it.
    #[must_use]
    pub(crate) fn is_exclusive_eager(&self) -> bool {
        self.0.load(Acquire) & !NOTIFIED == INITIAL_EAGER
    }

    /// Join-handle fast path: `true` if the task is complete and the handle
    /// holds the last reference, so nothing else can touch the task and it
    /// may be freed without a read-modify-write.
    #[must_use]
    pub(crate) fn is_complete_and_last_reference(&self) -> bool {
        let s = self.load();
        s.is_complete() && s.ref_count() == 1
    }

    /// Wake consuming the waker's reference.
    pub(crate) fn transition_to_notified_by_val(&self) -> ToNotified {
        self.update(|s| {
            if s.is_running() {
                // The poller re-queues it; drop the waker's reference (the
                // poller holds another, so this is never the last).
                debug_assert!(s.ref_count() > 1);
                (Some((s.0 | NOTIFIED) - REF_ONE), ToNotified::DoNothing)
            } else if s.is_complete() || s.is_notified() {
                let next = s.0 - REF_ONE;
                let action = if Snapshot(next).ref_count() == 0 {
                    ToNotified::Dealloc
                } else {
                    ToNotified::DoNothing
                };
                (Some(next), action)
            } else {
                // The waker's reference becomes the `Notified`'s.
                (Some(s.0 | NOTIFIED), ToNotified::Submit)
            }
        })
    }

    /// Wake keeping the waker's reference.
    pub(crate) fn transition_to_notified_by_ref(&self) -> ToNotified {
        self.update(|s| {
            if s.is_running() {
                if s.is_notified() {
                    (None, ToNotified::DoNothing)
                } else {
                    (Some(s.0 | NOTIFIED), ToNotified::DoNothing)
                }
            } else if s.is_complete() || s.is_notified() {
                (None, ToNotified::DoNothing)
            } else {
                (Some((s.0 | NOTIFIED) + REF_ONE), ToNotified::Submit)
            }
        })
    }

    /// Abort from a handle. Sets `CANCELLED`; an idle task is also notified
    /// (with a new reference) so a worker runs its cancellation.
    #[must_use]
    pub(crate) fn transition_to_notified_and_cancel(&self) -> bool {
        self.update(|s| {
            if s.is_complete() || s.is_cancelled() {
                (None, false)
            } else if s.is_running() || s.is_notified() {
                (Some(s.0 | CANCELLED), false)
            } else {
                (Some((s.0 | CANCELLED | NOTIFIED) + REF_ONE), true)
            }
        })
    }

    /// Shutdown: claim an idle task to drop its future right here
    /// (`true`), or only mark it cancelled if another thread runs it.
    #[must_use]
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            if s.is_idle() {
                (Some(s.0 | RUNNING | CANCELLED), true)
            } else if s.is_complete() {
                (None, false)
            } else {
                (Some(s.0 | CANCELLED), false)
            }
        })
    }

    /// Drops the join handle's interest unless the task already completed
    /// (then the handle owns the output and must drop it). `Ok` = dropped.
    pub(crate) fn unset_join_interest(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested());
            if s.is_complete() {
                (None, Err(s))
            } else {
                (Some(s.0 & !(JOIN_INTEREST | JOIN_WAKER)), Ok(()))
            }
        })
    }

    /// Publishes the join waker just written. `Err` if the task completed.
    pub(crate) fn set_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                (None, Err(s))
            } else {
                (Some(s.0 | JOIN_WAKER), Ok(()))
            }
        })
    }

    /// Takes the join-waker slot back for rewriting. `Err` if completed.
    pub(crate) fn unset_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested() && s.is_join_waker_set());
            if s.is_complete() {
                (None, Err(s))
            } else {
                (Some(s.0 & !JOIN_WAKER), Ok(()))
            }
        })
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self.0.fetch_add(REF_ONE, Relaxed);
        // Guard against overflow in the spirit of `Arc`.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops one reference; `true` if it was the last.
    #[must_use]
    pub(crate) fn ref_dec(&self) -> bool {
        self.ref_dec_by(1)
    }

    /// Drops `n` references; `true` if they were the last.
    #[must_use]
    pub(crate) fn ref_dec_by(&self, n: usize) -> bool {
        let prev = Snapshot(self.0.fetch_sub(n * REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= n, "{prev:?} - {n}");
        prev.ref_count() == n
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn eager_ready_path() {
        let state = State::new(INITIAL_EAGER);
        let prev = state.transition_to_complete();
        assert!(prev.is_join_interested() && !prev.is_join_waker_set());
        assert!(!state.ref_dec()); // the poller
        assert_eq!(state.unset_join_interest(), Err(state.load()));
        assert!(state.ref_dec()); // the handle: last
    }

    #[test]
    fn exclusive_fast_paths() {
        let state = State::new(INITIAL_EAGER);
        assert!(state.try_complete_exclusive());
        assert!(state.is_complete_and_last_reference());
        // A live waker clone (an extra reference) forces the general path.
        let state = State::new(INITIAL_EAGER);
        state.ref_inc();
        assert!(!state.try_complete_exclusive());
        assert!(!state.load().is_complete());
        // So does a wake during the poll.
        let state = State::new(INITIAL_EAGER);
        let _ = state.transition_to_notified_by_ref();
        assert!(!state.try_complete_exclusive());
    }

    #[test]
    fn exclusive_eager_ignores_wakes_but_not_references_or_aborts() {
        assert!(State::new(INITIAL_EAGER).is_exclusive_eager());
        // Woke itself during the poll: still exclusive.
        let state = State::new(INITIAL_EAGER);
        let _ = state.transition_to_notified_by_ref();
        assert!(state.is_exclusive_eager());
        // A clone woke it by value (its reference gone): still exclusive.
        let state = State::new(INITIAL_EAGER);
        state.ref_inc();
        let _ = state.transition_to_notified_by_val();
        assert!(state.is_exclusive_eager());
        // A live clone: not.
        let state = State::new(INITIAL_EAGER);
        state.ref_inc();
        assert!(!state.is_exclusive_eager());
        let _ = state.transition_to_notified_by_ref();
        assert!(!state.is_exclusive_eager());
        // Aborted (through a handle that cannot exist yet, but if it did): not.
        let state = State::new(INITIAL_EAGER);
        assert!(!state.transition_to_notified_and_cancel());
        assert!(!state.is_exclusive_eager());
    }

    #[test]
    fn wake_while_running_requeues_after_poll() {
        let state = State::new(INITIAL_EAGER);
        state.ref_inc(); // a waker
        assert_eq!(state.transition_to_notified_by_val(), ToNotified::DoNothing);
        assert_eq!(state.transition_to_idle(), ToIdle::Notified);
        assert_eq!(state.transition_to_running(), ToRunning::Success);
        assert_eq!(state.transition_to_idle(), ToIdle::Idle);
        assert_eq!(state.load().ref_count(), 2);
    }

    #[test]
    fn wake_idle_submits_once() {
        let state = State::new(INITIAL_EAGER);
        assert_eq!(state.transition_to_idle(), ToIdle::Idle);
        assert_eq!(state.transition_to_notified_by_ref(), ToNotified::Submit);
        assert_eq!(state.transition_to_notified_by_ref(), ToNotified::DoNothing);
        assert_eq!(state.load().ref_count(), 3);
    }

    #[test]
    fn abort_paths() {
        // Idle: notified with a new reference.
        let state = State::new(INITIAL_EAGER);
        let _ = state.transition_to_idle();
        assert!(state.transition_to_notified_and_cancel());
        assert_eq!(state.transition_to_running(), ToRunning::Cancelled);
        // Running: seen when the poll ends.
        let state = State::new(INITIAL_EAGER);
        assert!(!state.transition_to_notified_and_cancel());
        assert_eq!(state.transition_to_idle(), ToIdle::Cancelled);
        // Complete: no-op.
        let state = State::new(INITIAL_EAGER);
        let _ = state.transition_to_complete();
        assert!(!state.transition_to_notified_and_cancel());
        assert!(!state.load().is_cancelled());
    }

    #[test]
    fn join_waker_protocol() {
        let state = State::new(INITIAL_LAZY);
        assert!(state.set_join_waker().is_ok());
        assert!(state.unset_join_waker().is_ok());
        assert!(state.set_join_waker().is_ok());
        assert_eq!(state.transition_to_running(), ToRunning::Success);
        let prev = state.transition_to_complete();
        assert!(prev.is_join_waker_set());
        assert!(state.unset_join_waker().is_err());
    }

    #[test]
    fn shutdown_claims_only_idle_tasks() {
        let state = State::new(INITIAL_LAZY);
        assert!(state.transition_to_shutdown()); // queued but not running
        assert_eq!(state.transition_to_running(), ToRunning::Failed);
        let state = State::new(INITIAL_EAGER);
        assert!(!state.transition_to_shutdown()); // running elsewhere
        assert!(state.load().is_cancelled());
    }
}
