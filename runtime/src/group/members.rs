//! [`Members`]: a task group's bookkeeping of its children — which are
//! live (with their abort handles), the failures so far, the joiner's
//! waker, and whether the group is closed — kept apart from the runtime
//! handle and the scope it works with, so its races can be model-checked
//! without a runtime (`tests/loom_group.rs`).

use std::collections::HashMap;
use std::task::{Context, Poll, Waker};

use super::error::{ChildError, GroupError};
use crate::loom::Mutex;
use crate::scope::CancelScope;
use crate::task::AbortHandle;

/// A group's children, under one lock.
pub(crate) struct Members {
    state: Mutex<State>,
}

struct State {
    next_child: u64,
    /// Live children by group-local number; the abort handle arrives once
    /// `spawn` returns (an eager child may finish before that).
    live: HashMap<u64, Option<AbortHandle>>,
    errors: Vec<ChildError>,
    joiner: Option<Waker>,
    /// Joined or dropped: no more children.
    closed: bool,
}

impl Members {
    /// No child yet, open.
    pub(crate) fn new() -> Members {
        Members {
            state: Mutex::new(State {
                next_child: 0,
                live: HashMap::new(),
                errors: Vec::new(),
                joiner: None,
                closed: false,
            }),
        }
    }

    /// Counts a new child live; `None` if the group is closed. Every live
    /// child holds the scopes enclosing `scope` open (their shield count).
    pub(crate) fn register_child(&self, scope: &CancelScope) -> Option<u64> {
        let id = {
            let mut state = self.state.lock();
            if state.closed {
                return None;
            }
            let id = state.next_child;
            state.next_child += 1;
            state.live.insert(id, None);
            id
        };
        // Released in `child_done`, which this child reaches only after.
        scope.inner.count_shield(true);
        Some(id)
    }

    /// Remembers a live child's abort handle (a finished child's is
    /// dropped). If the group was dropped while the child was being spawned
    /// (its eager step, say), `abort_all` could not reach it: abort it now.
    pub(crate) fn set_abort(&self, child: u64, abort: AbortHandle) {
        let orphan = {
            let mut state = self.state.lock();
            let closed = state.closed;
            match state.live.get_mut(&child) {
                // `join` closes only with nothing live: closed means dropped.
                Some(_) if closed => true,
                Some(slot) => {
                    *slot = Some(abort.clone());
                    false
                }
                None => false,
            }
        };
        if orphan {
            abort.abort();
        }
    }

    /// A child finished (or was dropped); a failure cancels its siblings
    /// (`scope` is the group's).
    pub(crate) fn child_done(&self, scope: &CancelScope, child: u64, failure: Option<ChildError>) {
        let (cancel, joiner) = {
            let mut state = self.state.lock();
            state.live.remove(&child);
            let cancel = failure.is_some();
            state.errors.extend(failure);
            let joiner = if state.live.is_empty() {
                state.joiner.take()
            } else {
                None
            };
            (cancel, joiner)
        };
        if cancel {
            scope.cancel();
        }
        scope.inner.count_shield(false);
        if let Some(joiner) = joiner {
            joiner.wake();
        }
    }

    /// Ready once no child is live: closes the group and hands over the
    /// failures.
    pub(crate) fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<(), GroupError>> {
        let mut state = self.state.lock();
        if !state.live.is_empty() {
            match &mut state.joiner {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        state.closed = true;
        let errors = std::mem::take(&mut state.errors);
        Poll::Ready(if errors.is_empty() {
            Ok(())
        } else {
            Err(GroupError::new(errors))
        })
    }

    /// Closes the group and aborts every live child (the group was dropped
    /// without being joined).
    pub(crate) fn abort_all(&self) {
        let aborts: Vec<AbortHandle> = {
            let mut state = self.state.lock();
            state.closed = true;
            state.live.values_mut().filter_map(Option::take).collect()
        };
        for abort in aborts {
            abort.abort();
        }
    }

    /// Live children right now.
    pub(crate) fn live(&self) -> usize {
        self.state.lock().live.len()
    }
}
