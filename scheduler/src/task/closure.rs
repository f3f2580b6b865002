//! Closure tasks: a closure wrapped as a task so that `spawn_blocking`
//! returns an ordinary [`JoinHandle`] (await, abort before start, panics
//! caught) while the closure runs, once, on a blocking-pool thread.

use super::Placement;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::core::{Cell, Header};
use super::harness::Harness;
use super::state::{JOIN_INTEREST, NOTIFIED, REF_ONE};
use super::{Id, JoinHandle, Notified, RawTask, Schedule, Task};
use crate::locals::Locals;

/// A future that runs its closure on first poll.
struct ClosureFuture<F>(Option<F>);

impl<F> Unpin for ClosureFuture<F> {}

impl<F: FnOnce() -> R, R> Future for ClosureFuture<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self.0.take().expect("closure task polled after it ran");
        Poll::Ready(f())
    }
}

/// Closure tasks never return `Pending`, so they are never woken, bound
/// or released; only their panics need a home.
#[derive(Clone, Copy, Debug)]
struct NoSchedule;

impl Schedule for NoSchedule {
    fn bind(&self, task: Task) -> Result<(), Task> {
        Err(task)
    }
    fn release(&self, _task: NonNull<Header>) -> Option<Task> {
        None
    }
    fn schedule(&self, task: Notified, _placement: Placement) {
        // Only an abort of a task that is not yet queued could get here, and
        // a closure task is queued from birth. Dropping the wake is correct.
        drop(task);
    }
    fn unhandled_panic(&self, id: Id, payload: &(dyn std::any::Any + Send)) {
        super::print_unhandled_panic(id, payload);
    }
}

/// A blocking task ready to run on a blocking thread. Dropping it without
/// running it cancels the task (its handle yields a cancelled error).
pub struct ClosureTask {
    raw: RawTask,
}

// SAFETY: the closure is `Send` (see `closure`), and the task state
// synchronises everything else.
unsafe impl Send for ClosureTask {}

impl ClosureTask {
    /// Runs the closure here, with the spawner's task-locals installed.
    pub fn run(self) {
        let raw = ManuallyDrop::new(self).raw;
        Notified(raw).run();
    }
}

impl Drop for ClosureTask {
    fn drop(&mut self) {
        // SAFETY: our reference is handed to `shutdown`, which claims the
        // never-run task, drops the closure and stores `Cancelled`.
        unsafe { (self.raw.header().vtable.shutdown)(self.raw.ptr) }
    }
}

impl std::fmt::Debug for ClosureTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClosureTask")
            .field("id", &self.raw.header().id)
            .finish()
    }
}

/// Wraps `f` as a task; run the returned [`ClosureTask`] on a blocking
/// thread. The closure sees `locals` as its task-locals and the task's id.
pub fn closure<F, R>(f: F, locals: Locals) -> (ClosureTask, JoinHandle<R>)
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let ptr = Cell::<ClosureFuture<F>, NoSchedule>::allocate(
        ClosureFuture(Some(f)),
        Some(NoSchedule),
        NOTIFIED | JOIN_INTEREST | (2 * REF_ONE),
        Id::next(),
        locals,
        Harness::<ClosureFuture<F>, NoSchedule>::VTABLE,
    );
    let raw = RawTask { ptr };
    (ClosureTask { raw }, JoinHandle::new(raw))
}
