//! Which scheduler, if any, this thread is running right now: a worker of a
//! multi-thread scheduler, the thread inside a current-thread `block_on`, or
//! the thread inside a multi-thread `block_on`. Used to route a wake to a
//! local queue, to decide whether `spawn` may be eager here, and to refuse a
//! nested `block_on`. Set for the length of a scope, restored on unwind.

use std::cell::Cell;
use std::ptr;

use crate::{current_thread, multi_thread};

/// The scheduler this thread belongs to while the context is entered.
pub(crate) enum SchedulerContext {
    CurrentThread(current_thread::Context),
    MultiThread(multi_thread::Context),
    /// A thread inside a multi-thread runtime's `block_on` (not a worker:
    /// recorded so a nested `block_on` is refused).
    MultiThreadBlockOn,
}

thread_local! {
    static SCHEDULER: Cell<*const SchedulerContext> = const { Cell::new(ptr::null()) };
}

/// Runs `f` with `ctx` as this thread's scheduler context.
pub(crate) fn enter<R>(ctx: &SchedulerContext, f: impl FnOnce() -> R) -> R {
    struct Reset(*const SchedulerContext);
    impl Drop for Reset {
        fn drop(&mut self) {
            let prev = self.0;
            let _ = SCHEDULER.try_with(|c| c.set(prev));
        }
    }
    let prev = SCHEDULER.with(|c| c.replace(ctx));
    let _reset = Reset(prev);
    f()
}

/// Runs `f` with this thread's scheduler context, if any.
pub(crate) fn with<R>(f: impl FnOnce(Option<&SchedulerContext>) -> R) -> R {
    let ptr = SCHEDULER.try_with(|c| c.get()).unwrap_or(ptr::null());
    // SAFETY: a non-null pointer was installed by `enter`, whose borrow of
    // the context outlives the closure it runs, and is reset when it ends.
    f(unsafe { ptr.as_ref() })
}

/// Whether this thread is running any keen scheduler.
pub(crate) fn is_inside_runtime() -> bool {
    with(|ctx| ctx.is_some())
}
