//! The `keen` crate's thread context: one thread-local struct, with typed
//! accessors, for everything this crate keeps per thread —
//!
//! | field | set by | read by |
//! |---|---|---|
//! | `handle` | `block_on`, every worker and blocking-pool thread, [`Handle::enter`] | [`Handle::current`], the free `keen::spawn`, time code (`time/current.rs`) |
//! | `SCHEDULER_ID` | kept in step with `handle` | the spawn and timeout hot paths (one word, no borrow) |
//! | `blocking_pool` | each blocking-pool thread, once | the pool (is this thread one of mine?) |
//!
//! It answers "which runtime is this thread in", never "which task is
//! current" — that lives with the task itself (`keen_scheduler::context`).

use std::cell::{Cell, RefCell};

use crate::runtime::Handle;

struct Context {
    handle: RefCell<Option<Handle>>,
    /// The id of the blocking pool this thread belongs to, if any.
    blocking_pool: Cell<Option<u64>>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            blocking_pool: Cell::new(None),
        }
    };

    /// The scheduler id of `CONTEXT`'s handle (0: none, or `CONTEXT` is
    /// gone), kept beside it so hot paths read one word instead of
    /// borrowing the handle. A thread-local of its own because it has no
    /// destructor: reading it is a plain load, with no check of whether it
    /// was initialised or torn down (`CONTEXT`, which holds a `Handle`, has
    /// both).
    static SCHEDULER_ID: Cell<usize> = const { Cell::new(0) };
}

impl Drop for Context {
    fn drop(&mut self) {
        // `CONTEXT` is being torn down (reads of it fail from now on): so is
        // the id, before the handle is dropped.
        SCHEDULER_ID.set(0);
    }
}

/// Stores `handle` as current, keeping `scheduler_id` in step; returns the
/// previous one.
fn replace_current(handle: Option<Handle>) -> Option<Handle> {
    let id = handle.as_ref().map_or(0, |h| h.scheduler().scheduler_id());
    CONTEXT
        .try_with(|c| {
            SCHEDULER_ID.set(id);
            c.handle.replace(handle)
        })
        .ok()
        .flatten()
}

/// The handle of the runtime this thread is in.
pub(crate) fn current() -> Option<Handle> {
    with_handle(|h| h.cloned())
}

/// Runs `f` with the handle of the runtime this thread is in (`None`
/// outside one, or during thread teardown), without cloning it. `f` must
/// not enter or leave a runtime.
pub(crate) fn with_handle<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    let mut f = Some(f);
    let out = CONTEXT.try_with(|c| {
        let handle = c.handle.borrow();
        (f.take().expect("called once"))(handle.as_ref())
    });
    match out {
        Ok(out) => out,
        Err(_) => (f.take().expect("not called during teardown"))(None),
    }
}

/// The scheduler identity of the runtime this thread is in, read without
/// cloning its handle.
#[inline]
pub(crate) fn current_scheduler_id() -> Option<usize> {
    Some(SCHEDULER_ID.get()).filter(|&id| id != 0)
}

/// Makes `handle` current on this thread for the guard's lifetime.
pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let prev = replace_current(Some(handle));
    EnterGuard { prev }
}

/// Makes `handle` current on this thread for good (runtime-owned threads).
pub(crate) fn set_thread_handle(handle: Option<Handle>) {
    drop(replace_current(handle));
}

/// The blocking pool this thread belongs to.
pub(crate) fn blocking_pool() -> Option<u64> {
    CONTEXT.try_with(|c| c.blocking_pool.get()).ok().flatten()
}

/// Marks this thread as one of blocking pool `pool`'s, for good.
pub(crate) fn set_blocking_pool(pool: u64) {
    let _ = CONTEXT.try_with(|c| c.blocking_pool.set(Some(pool)));
}

/// Restores the previously current runtime when dropped.
#[must_use = "the runtime stays current only while the guard lives"]
#[derive(Debug)]
pub struct EnterGuard {
    prev: Option<Handle>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        drop(replace_current(self.prev.take()));
    }
}
