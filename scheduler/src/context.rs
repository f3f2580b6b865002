//! The scheduler crate's thread context: one thread-local struct for
//! everything this crate keeps per thread, each field a typed cell owned by
//! the module whose concept it is.
//!
//! | field | owner | what it holds |
//! |---|---|---|
//! | `task` | this file | the task being polled here: its id and its task-locals |
//! | `slot` | this file | the poll slot (below) |
//! | `eager` | `eager.rs` | eager-spawn nesting depth here, and eager polls since the scheduler last counted its tick |
//! | `scheduler` | `flavors/mod.rs` | which scheduler this thread is running, if any |
//! | `counted`, `worker` | `activity.rs` | the activity this thread is counted busy in; the one whose worker it is |
//! | `ids` | `task/id.rs` | this thread's reserved block of task ids |
//!
//! Every field is a plain `Cell` of a `Copy` value with a `const`
//! initialiser and no destructor, so an access is a thread-local load, with
//! no lazy-initialisation or teardown check on the spawn path.
//!
//! The current-task context is *swapped*, never shared: whoever polls a task
//! (the eager spawner or a worker) installs the task's context for the length
//! of the poll and puts the previous one back on every exit path, panics
//! included, through `CurrentGuard`. It answers `task::id()` and
//! task-local lookups; it is never used to decide what to cancel.
//!
//! The poll slot is a pointer-sized value this crate never reads: it is
//! cleared at the start of every task poll (eager ones included) and
//! restored after, and the embedding crate may set it for part of a poll
//! ([`PollSlotGuard`]). What the value means is entirely the embedding
//! crate's business; a slot that every task poll starts empty is the one
//! thing this crate promises.

use std::cell::{Cell, UnsafeCell};
use std::ptr;

use crate::activity::Activity;
use crate::eager::EagerCount;
use crate::flavors::OnThread;
use crate::locals::{LocalKeyId, LocalValue, Locals};
use crate::task::Id;

/// This crate's per-thread state; see the module docs for who owns what.
pub(crate) struct Context {
    pub(crate) task: Cell<Current>,
    /// The poll slot (see the module docs): its own cell, so setting it
    /// for part of a poll moves one word, not the whole `Current`.
    pub(crate) slot: Cell<*const ()>,
    pub(crate) eager: Cell<EagerCount>,
    pub(crate) scheduler: Cell<Option<OnThread>>,
    pub(crate) counted: Cell<*const Activity>,
    pub(crate) worker: Cell<*const Activity>,
    pub(crate) ids: Cell<(u64, u64)>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            task: Cell::new(Current::NONE),
            slot: Cell::new(ptr::null()),
            eager: Cell::new(EagerCount::ZERO),
            scheduler: Cell::new(None),
            counted: Cell::new(ptr::null()),
            worker: Cell::new(ptr::null()),
            ids: Cell::new((0, 0)),
        }
    };
}

/// Runs `f` with this thread's context; `None` during thread teardown,
/// after the thread-local is gone.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&Context) -> R) -> Option<R> {
    CONTEXT.try_with(f).ok()
}

/// What "the current task" means while a poll is under way.
#[derive(Clone, Copy)]
pub(crate) struct Current {
    pub(crate) id: Option<Id>,
    /// The polled task's locals; null outside any task or `block_on`.
    pub(crate) locals: *const UnsafeCell<Locals>,
}

impl Current {
    const NONE: Current = Current {
        id: None,
        locals: ptr::null(),
    };

    /// A task poll's context: its id and locals.
    pub(crate) fn task(id: Option<Id>, locals: *const UnsafeCell<Locals>) -> Current {
        Current { id, locals }
    }
}

/// Restores the previous current-task context and poll slot when dropped.
pub(crate) struct CurrentGuard {
    prev: Current,
    prev_slot: *const (),
}

impl CurrentGuard {
    /// Installs `current`, with an empty poll slot, until the guard drops.
    #[inline]
    pub(crate) fn enter(current: Current) -> CurrentGuard {
        let (prev, prev_slot) =
            CONTEXT.with(|c| (c.task.replace(current), c.slot.replace(ptr::null())));
        CurrentGuard { prev, prev_slot }
    }
}

impl Drop for CurrentGuard {
    #[inline]
    fn drop(&mut self) {
        let (prev, prev_slot) = (self.prev, self.prev_slot);
        // `with`, not `CONTEXT.with`: a task dropped during thread teardown
        // must not abort.
        with(|c| {
            c.task.set(prev);
            c.slot.set(prev_slot);
        });
    }
}

/// The poll slot's value on this thread (null unless set during this
/// poll); see the module docs.
#[inline]
pub fn poll_slot() -> *const () {
    with(|c| c.slot.get()).unwrap_or(ptr::null())
}

/// Sets the poll slot until dropped, then puts the previous value back.
/// Guards nest in LIFO order on one thread. This crate never reads the
/// value, so setting it is safe; whoever reads it back and dereferences it
/// owns that contract.
#[derive(Debug)]
pub struct PollSlotGuard {
    prev: *const (),
}

impl PollSlotGuard {
    /// Makes `value` the poll slot's value on this thread.
    #[inline]
    pub fn set(value: *const ()) -> PollSlotGuard {
        let prev = with(|c| c.slot.replace(value)).unwrap_or(ptr::null());
        PollSlotGuard { prev }
    }
}

impl Drop for PollSlotGuard {
    #[inline]
    fn drop(&mut self) {
        let prev = self.prev;
        with(|c| c.slot.set(prev));
    }
}

/// Whether this thread is polling a `block_on` root future right now (it
/// has task-locals but no task id).
pub fn in_block_on() -> bool {
    with(|c| {
        let c = c.task.get();
        c.id.is_none() && !c.locals.is_null()
    })
    .unwrap_or(false)
}

/// The id of the task being polled on this thread, if any.
pub fn try_current_id() -> Option<Id> {
    with(|c| c.task.get().id).flatten()
}

/// Runs `f` with the current task's locals, or `None` outside a task or
/// `block_on`. Crate-private: `f` is always one of the short closures below,
/// which run no user code (no drops of user values) while the borrow lives.
fn with_current_locals<R>(f: impl FnOnce(Option<&mut Locals>) -> R) -> R {
    let ptr = with(|c| c.task.get().locals).unwrap_or(ptr::null());
    if ptr.is_null() {
        return f(None);
    }
    // SAFETY: `ptr` was installed by a `CurrentGuard` for the poll now under
    // way on this thread and points into the polled task's header (or the
    // `block_on` frame); that task is RUNNING, so only this thread touches
    // its locals, and the guard outlives this call. The closures passed here
    // cannot re-enter this function, so the `&mut` is unique while it lives.
    f(Some(unsafe { &mut *(*ptr).get() }))
}

/// Error of a task-local access made outside any task or `block_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoTaskError;

impl std::fmt::Display for NoTaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("task-locals can only be used inside a keen task or `block_on`")
    }
}

impl std::error::Error for NoTaskError {}

/// The current task's value under `key`.
pub fn local_get(key: LocalKeyId) -> Result<Option<LocalValue>, NoTaskError> {
    with_current_locals(|l| l.map(|l| l.get(key).cloned()).ok_or(NoTaskError))
}

/// Sets the current task's value under `key`; returns the previous value,
/// which the caller drops after the borrow has ended.
pub fn local_insert(key: LocalKeyId, value: LocalValue) -> Result<Option<LocalValue>, NoTaskError> {
    with_current_locals(|l| l.map(|l| l.insert(key, value)).ok_or(NoTaskError))
}

/// Removes the current task's value under `key`, returning it.
pub fn local_remove(key: LocalKeyId) -> Result<Option<LocalValue>, NoTaskError> {
    with_current_locals(|l| l.map(|l| l.remove(key)).ok_or(NoTaskError))
}

/// A copy of the current task's locals (empty outside a task), for a child
/// about to be spawned.
pub fn inherited_locals() -> Locals {
    with_current_locals(|l| l.map(|l| l.clone()).unwrap_or_default())
}
