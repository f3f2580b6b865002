//! [`GroupInner`]: the state one task group shares with its handles and its
//! children — the group's cancel scope, the runtime its children run on,
//! and its [`Members`] (the live children, to abort them if the group is
//! dropped unjoined; the failures so far; the joiner).
//!
//! Every live child holds its group's enclosing scopes open: it counts in
//! their `shields_inside`, so a cancelled scope around the group keeps
//! polling (instead of catching and dropping the group) until the children
//! it cancelled have finished. That is how "the group exits only after its
//! children" holds under keen's drop-to-cancel model.

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::error::{ChildError, GroupError};
use super::members::Members;
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
    members: Members,
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
            members: Members::new(),
        })
    }

    /// Counts a new child live; `None` if the group is closed.
    pub(crate) fn register_child(&self) -> Option<u64> {
        self.members.register_child(&self.scope)
    }

    /// Remembers a live child's abort handle; see [`Members::set_abort`].
    pub(crate) fn set_abort(&self, child: u64, abort: AbortHandle) {
        self.members.set_abort(child, abort);
    }

    /// A child finished (or was dropped); a failure cancels its siblings.
    pub(crate) fn child_done(&self, child: u64, failure: Option<ChildError>) {
        self.members.child_done(&self.scope, child, failure);
    }

    /// Ready once no child is live: closes the group and hands over the
    /// failures.
    pub(crate) fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<(), GroupError>> {
        self.members.poll_join(cx)
    }

    /// Closes the group and aborts every live child (the group was dropped
    /// without being joined).
    pub(crate) fn abort_all(&self) {
        self.members.abort_all();
    }

    /// Live children right now.
    pub(crate) fn live(&self) -> usize {
        self.members.live()
    }
}
