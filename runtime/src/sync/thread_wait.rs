//! Waiting for a `keen::sync` future on a plain thread, for the blocking
//! variants (`blocking_lock`, `Event::wait_blocking`,
//! `blocking_send`, `blocking_recv`): the thread parks until the future's
//! waker unparks it. No runtime is involved.

use std::future::Future;

/// Whether this thread is running async code of a keen runtime: a worker,
/// the thread driving a current-thread runtime, or any `block_on` future.
/// Blocking there would stall a runtime thread, and deadlock when what it
/// waits for must run on that thread. A `spawn_blocking` thread is not
/// async context (it has a runtime handle and a task id, but is no worker).
fn in_async_context() -> bool {
    let on_runtime_thread =
        crate::Handle::try_current().is_ok_and(|h| h.scheduler().is_runtime_thread());
    on_runtime_thread || keen_scheduler::context::in_block_on()
}

/// Blocks this thread until `future` completes.
///
/// # Panics
/// When called from async context (see [`in_async_context`]), naming `what`.
#[track_caller]
pub(crate) fn block_on<F: Future>(what: &str, future: F) -> F::Output {
    if in_async_context() {
        panic!(
            "`{what}` was called from async context (inside a keen task or `block_on`), where \
             blocking would stall a runtime thread; `.await` the async form instead, or call it \
             from `spawn_blocking` or a thread outside the runtime"
        );
    }
    keen_scheduler::park::block_on_thread(future)
}
