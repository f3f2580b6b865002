//! Tasks: handles, ids, yielding, and task-local storage.

mod local;
mod yield_now;

pub use keen_scheduler::task::{AbortHandle, Id, JoinError, JoinHandle};
pub use local::{AccessError, LocalKey, Scope};
pub use yield_now::{YieldNow, yield_now};

pub use crate::{spawn, spawn_blocking, spawn_lazy, spawn_local};

/// The id of the task being polled on this thread.
///
/// The same id is seen during the task's eager first poll, after it is
/// resumed on any worker, and on its [`JoinHandle::id`].
///
/// # Panics
/// Outside a task (for instance directly in `block_on`'s future); see
/// [`try_id`].
#[track_caller]
pub fn id() -> Id {
    try_id().expect("`keen::task::id()` called outside a task")
}

/// The id of the task being polled on this thread, if any.
pub fn try_id() -> Option<Id> {
    keen_scheduler::context::try_current_id()
}
