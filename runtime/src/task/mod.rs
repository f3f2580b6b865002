//! Tasks: handles, ids, [`JoinSet`], yielding, and task-local storage.

mod join_set;
mod local;
mod yield_now;

pub use join_set::JoinSet;
pub use keen_scheduler::task::{AbortHandle, Id, JoinError, JoinHandle};
pub use local::{AccessError, LocalKey, Scope};
pub use yield_now::{YieldNow, yield_now};

pub use crate::{spawn, spawn_blocking, spawn_lazy, spawn_local};

/// The id of the task being polled on this thread.
///
/// ```
/// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let handle = keen::spawn(async { keen::task::id() });
///     let id = handle.id();
///     assert_eq!(handle.await.unwrap(), id);
/// });
/// ```
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
