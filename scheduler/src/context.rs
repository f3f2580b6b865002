//! Thread-local context: which task this thread is polling right now (its id
//! and task-locals), the innermost cancel scope being polled, how deep eager
//! spawns are nested here, and which scheduler this thread belongs to.
//!
//! The current-task context is *swapped*, never shared: whoever polls a task
//! (the eager spawner or a worker) installs the task's context for the length
//! of the poll and puts the previous one back on every exit path, panics
//! included, through `CurrentGuard`. It is used to answer `task::id()` and
//! task-local lookups; it is never used to decide what to cancel.
//!
//! The scope slot is an opaque pointer the `keen` crate sets while a cancel
//! scope polls its body ([`ScopeGuard`]), so a scope entered inside finds its
//! parent. Every task poll starts with it empty, eager polls included: a
//! scope entered during a child's eager phase never sees the parent's.

use std::cell::{Cell, UnsafeCell};
use std::ptr;

use crate::locals::{LocalKeyId, LocalValue, Locals};
use crate::task::Id;

/// What "the current task" means while a poll is under way.
#[derive(Clone, Copy)]
pub(crate) struct Current {
    pub(crate) id: Option<Id>,
    /// The polled task's locals; null outside any task or `block_on`.
    pub(crate) locals: *const UnsafeCell<Locals>,
    /// The innermost cancel scope polling its body; null when none.
    pub(crate) scope: *const (),
}

impl Current {
    const NONE: Current = Current {
        id: None,
        locals: ptr::null(),
        scope: ptr::null(),
    };

    /// A task poll's context: its id and locals, no scope yet.
    pub(crate) fn task(id: Option<Id>, locals: *const UnsafeCell<Locals>) -> Current {
        Current {
            id,
            locals,
            scope: ptr::null(),
        }
    }
}

thread_local! {
    static CURRENT: Cell<Current> = const { Cell::new(Current::NONE) };
    /// Eager-spawn nesting here, and eager polls since the scheduler last
    /// advanced its tick (one thread-local for both: the spawn hot path).
    static EAGER: Cell<Eager> = const { Cell::new(Eager { depth: 0, polls: 0 }) };
}

/// Restores the previous current-task context when dropped.
pub(crate) struct CurrentGuard {
    prev: Current,
}

impl CurrentGuard {
    /// Installs `current` until the guard drops.
    #[inline]
    pub(crate) fn enter(current: Current) -> CurrentGuard {
        let prev = CURRENT.with(|c| c.replace(current));
        CurrentGuard { prev }
    }
}

impl Drop for CurrentGuard {
    #[inline]
    fn drop(&mut self) {
        let prev = self.prev;
        // `try_with`: a task dropped during thread teardown must not abort.
        let _ = CURRENT.try_with(|c| c.set(prev));
    }
}

/// The innermost cancel scope being polled on this thread (opaque to this
/// crate), or null.
pub fn current_scope() -> *const () {
    CURRENT.try_with(|c| c.get().scope).unwrap_or(ptr::null())
}

/// Installs a scope pointer as the innermost scope until dropped; see
/// [`current_scope`]. The pointer is never dereferenced by this crate.
#[derive(Debug)]
pub struct ScopeGuard {
    prev: *const (),
}

impl ScopeGuard {
    /// Makes `scope` the innermost scope on this thread.
    ///
    /// # Safety
    /// `scope` must be null or point to a scope of the `keen` crate (the one
    /// reader of [`current_scope`]) that stays alive until the guard drops;
    /// the guard must drop on this thread, in LIFO order with other guards.
    pub unsafe fn enter(scope: *const ()) -> ScopeGuard {
        let prev = CURRENT
            .try_with(|c| {
                let mut current = c.get();
                let prev = current.scope;
                current.scope = scope;
                c.set(current);
                prev
            })
            .unwrap_or(ptr::null());
        ScopeGuard { prev }
    }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        let prev = self.prev;
        let _ = CURRENT.try_with(|c| {
            let mut current = c.get();
            current.scope = prev;
            c.set(current);
        });
    }
}

/// Whether this thread is polling a `block_on` root future right now (it
/// has task-locals but no task id).
pub fn in_block_on() -> bool {
    CURRENT
        .try_with(|c| {
            let c = c.get();
            c.id.is_none() && !c.locals.is_null()
        })
        .unwrap_or(false)
}

/// The id of the task being polled on this thread, if any.
pub fn try_current_id() -> Option<Id> {
    CURRENT.try_with(|c| c.get().id).ok().flatten()
}

/// Runs `f` with the current task's locals, or `None` outside a task or
/// `block_on`. Crate-private: `f` is always one of the short closures below,
/// which run no user code (no drops of user values) while the borrow lives.
fn with_current_locals<R>(f: impl FnOnce(Option<&mut Locals>) -> R) -> R {
    let ptr = CURRENT.try_with(|c| c.get().locals).unwrap_or(ptr::null());
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

#[derive(Clone, Copy)]
struct Eager {
    depth: u32,
    polls: u32,
}

/// Counts one level of eager-spawn nesting on this thread while alive.
pub(crate) struct EagerDepthGuard(());

impl EagerDepthGuard {
    /// Enters one more level if the depth stays within `limit`, counting
    /// one eager poll.
    #[inline]
    pub(crate) fn try_enter(limit: u32) -> Option<EagerDepthGuard> {
        EAGER
            .try_with(|e| {
                let Eager { depth, polls } = e.get();
                (depth < limit).then(|| {
                    e.set(Eager {
                        depth: depth + 1,
                        polls: polls.wrapping_add(1),
                    });
                    EagerDepthGuard(())
                })
            })
            .ok()
            .flatten()
    }
}

impl Drop for EagerDepthGuard {
    #[inline]
    fn drop(&mut self) {
        let _ = EAGER.try_with(|e| {
            let Eager { depth, polls } = e.get();
            e.set(Eager {
                depth: depth - 1,
                polls,
            });
        });
    }
}

/// Advances a scheduler's tick by one poll plus every eager poll run on
/// this thread since the last advance, and returns `(old, new)`. Fairness
/// intervals count work this way: with eager spawn one scheduler poll can
/// run a whole chain of nested tasks, and counting it as one tick starved
/// the remote queue (checked every `global_queue_interval` ticks) ~30-fold.
pub(crate) fn advance_tick(tick: &mut u32) -> (u32, u32) {
    let eager = EAGER
        .try_with(|e| {
            let mut state = e.get();
            let polls = std::mem::take(&mut state.polls);
            e.set(state);
            polls
        })
        .unwrap_or(0);
    let old = *tick;
    *tick = old.wrapping_add(1).wrapping_add(eager);
    (old, *tick)
}

/// Whether a tick advance from `old` to `new` passed a multiple of
/// `interval` (so the work due every `interval` ticks is due now).
pub(crate) fn crossed(old: u32, new: u32, interval: u32) -> bool {
    new < old || old / interval != new / interval
}
