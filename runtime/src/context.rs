//! Which keen runtime this thread is in: set by `block_on`, on every worker
//! and blocking-pool thread, and by [`Handle::enter`]. It answers
//! [`Handle::current`] (and so the free `keen::spawn`), never "which task is
//! current" — that lives with the task itself (see `keen-scheduler`).

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use crate::runtime::Handle;
use crate::time::driver::TimeShared;

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    /// The scheduler id of `CURRENT`'s handle (0: none), kept beside it so
    /// the spawn hot path reads one word instead of borrowing the handle.
    static SCHEDULER_ID: Cell<usize> = const { Cell::new(0) };
}

/// Stores `handle` as current, keeping `SCHEDULER_ID` in step; returns the
/// previous one.
fn replace_current(handle: Option<Handle>) -> Option<Handle> {
    let id = handle.as_ref().map_or(0, |h| h.scheduler().scheduler_id());
    let prev = CURRENT.try_with(|c| c.replace(handle)).ok().flatten();
    let _ = SCHEDULER_ID.try_with(|c| c.set(id));
    prev
}

/// The handle of the runtime this thread is in.
pub(crate) fn current() -> Option<Handle> {
    CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// The scheduler identity of the runtime this thread is in, read without
/// cloning its handle (the borrow ends before this returns).
pub(crate) fn current_scheduler_id() -> Option<usize> {
    SCHEDULER_ID.try_with(Cell::get).ok().filter(|&id| id != 0)
}

/// Runs `f` with the current runtime's timers (`None` outside a runtime),
/// without cloning the handle. `f` must not enter or leave a runtime.
pub(crate) fn with_time<R>(f: impl FnOnce(Option<&Arc<TimeShared>>) -> R) -> R {
    let mut f = Some(f);
    let out = CURRENT.try_with(|c| {
        let handle = c.borrow();
        let f = f.take().expect("called once");
        f(handle.as_ref().map(|h| &h.inner.time))
    });
    match out {
        Ok(out) => out,
        Err(_) => f.take().expect("not called during teardown")(None),
    }
}

/// The current runtime's I/O reactor handle (`None` outside a runtime).
pub(crate) fn io_handle() -> Option<Arc<crate::io::IoHandle>> {
    CURRENT
        .try_with(|c| c.borrow().as_ref().map(|h| h.inner.io.clone()))
        .ok()
        .flatten()
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
