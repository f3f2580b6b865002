//! How time code finds the current runtime's timers: one accessor, and one
//! message for the panic outside a runtime (sleeps, deadlines, `pause` and
//! `advance` all need the runtime's wheel and clock).

use std::sync::Arc;

use super::driver::TimeShared;
use crate::context;

/// Runs `f` with the current runtime's timers (`None` outside a runtime),
/// without cloning anything. `f` must not enter or leave a runtime.
pub(crate) fn with<R>(f: impl FnOnce(Option<&Arc<TimeShared>>) -> R) -> R {
    context::with_handle(|handle| f(handle.map(|h| h.time())))
}

/// The current runtime's timers.
///
/// # Panics
/// Outside a runtime: "`{what}` outside a keen runtime", naming the fix.
#[track_caller]
pub(crate) fn expect(what: &str) -> Arc<TimeShared> {
    with(|time| time.cloned()).unwrap_or_else(|| no_runtime(what))
}

/// The panic of time code outside a runtime.
#[track_caller]
#[cold]
pub(crate) fn no_runtime(what: &str) -> ! {
    panic!(
        "{what} outside a keen runtime: timers live in a runtime's timer wheel; call it \
         inside `Runtime::block_on` or a task, or enter a runtime with `Handle::enter`"
    )
}
