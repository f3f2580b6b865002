//! [`GroupInner`]: the state one task group shares with its handles and its
//! children — the group's cancel scope, the live children (to abort them if
//! the group is dropped unjoined), the failures so far, and the joiner.
//!
//! Every live child holds its group's enclosing scopes open: it counts in
//! their `shields_inside`, so a cancelled scope around the group keeps
//! polling (instead of catching and dropping the group) until the children
//! it cancelled have finished. That is how "the group exits only after its
//! children" holds under keen's drop-to-cancel model.

use std::collections::HashMap;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use super::error::{ChildError, GroupError};
use crate::runtime::Handle;
use crate::scope::{CancelScope, enclosing_scope};
use crate::task::AbortHandle;

/// A group's shared state.
pub(crate) struct GroupInner {
    /// The group's scope: entered when the group is created, under the
    /// scope polling there; every child's scope is entered under it.
    pub(crate) scope: CancelScope,
    /// The runtime the children run on.
    pub(crate) handle: Handle,
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

impl GroupInner {
    /// A group on the current runtime, under the scope polling here.
    #[track_caller]
    pub(crate) fn new() -> Arc<GroupInner> {
        let handle = Handle::current();
        let scope = CancelScope::new();
        scope.inner.enter(enclosing_scope());
        // The group's scope has no body of its own to wake: arm it with a
        // no-op waker so it joins its parent's child list (the parent's
        // cancellation then reaches the children) and can hold a deadline.
        scope.inner.arm(Waker::noop());
        Arc::new(GroupInner {
            scope,
            handle,
            state: Mutex::new(State {
                next_child: 0,
                live: HashMap::new(),
                errors: Vec::new(),
                joiner: None,
                closed: false,
            }),
        })
    }

    /// Counts a new child live; `None` if the group is closed.
    pub(crate) fn register_child(&self) -> Option<u64> {
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
        self.scope.inner.count_shield(true);
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

    /// A child finished (or was dropped); a failure cancels its siblings.
    pub(crate) fn child_done(&self, child: u64, failure: Option<ChildError>) {
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
            self.scope.cancel();
        }
        self.scope.inner.count_shield(false);
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
