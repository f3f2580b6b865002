//! Raw tasks: one allocation per spawned future, reference counted, driven
//! by an atomic state word.
//!
//! # Handles, and who owns which reference
//! | handle         | references | may touch                                   |
//! |----------------|-----------:|---------------------------------------------|
//! | [`JoinHandle`] | 1          | the output once complete; the join waker    |
//! | [`AbortHandle`]| 1          | the state (abort)                           |
//! | `Notified`     | 1          | a queued wake: running it polls the task    |
//! | `Task`         | 1          | the owned-task list's entry (for shutdown)  |
//! | `Waker`        | 1 each     | the state (wake)                            |
//! | the poller     | 1          | the stage and task-locals, while `RUNNING`  |
//!
//! The state bits are documented once, in `state.rs`. The memory
//! layout (header first, `#[repr(C)]`) and the rules for each header field
//! are in `core.rs`; all unsafe glue is in `harness.rs`.
//!
//! # Eager spawn and promotion
//! 1. `spawn` allocates the task once (header, scheduler slot, future) in
//!    state `RUNNING | JOIN_INTEREST` with two references: the join handle's
//!    and the spawning thread's (the poller's).
//! 2. It installs the child's context (task id and task-locals, which carry
//!    the cancel-scope chain of the `keen` crate) in place of the parent's,
//!    polls the future in place under `catch_unwind`, and restores the
//!    parent's context on every exit path, panics included.
//! 3. `Ready` (or a panic): the future is dropped, the output stored, the
//!    task completed. It never touched a run queue or the owned-task list.
//! 4. `Pending`: the task is *promoted*: its scheduler handle is stored, the
//!    owned-task list takes a reference, and `RUNNING` is released. If a
//!    wake arrived during the poll, the poller's reference becomes a
//!    `Notified` and is queued; if an abort arrived, the future is dropped.
//! 5. A wake never polls inline: it always queues a `Notified`.
//!
//! # Join waker rules
//! 1. The handle writes the join-waker slot only while `JOIN_WAKER` is clear
//!    and the task is not complete, then sets `JOIN_WAKER` (failing if the
//!    task completed meanwhile, in which case it reads the output instead).
//! 2. To replace its waker the handle first clears `JOIN_WAKER` (failing if
//!    complete). Equal wakers (`will_wake`) are not replaced.
//! 3. The task, on completing, wakes the slot's waker iff `JOIN_WAKER` was
//!    set at that moment. The slot is dropped with the allocation.
//!
//! # Output ownership
//! After `COMPLETE`, the output belongs to the join handle if `JOIN_INTEREST`
//! was set at that moment, else to the completing thread, which drops it at
//! once and reports a panic to the runtime's unhandled-panic policy. A handle
//! dropped with an unread panic inside reports it the same way.

mod blocking;
mod core;
mod error;
mod harness;
mod id;
mod join;
mod list;
pub(crate) mod state;
mod waker;

use std::any::Any;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

pub use blocking::{BlockingTask, blocking};
pub use error::{JoinError, panic_message};
pub use id::Id;
pub use join::{AbortHandle, JoinHandle};
pub(crate) use list::OwnedTasks;

pub(crate) use self::core::Header;
use crate::locals::Locals;

/// Where a scheduler queues a task it is handed (multi-thread; the
/// current-thread scheduler has one FIFO queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Woken by something else: the LIFO slot, run next for locality.
    Woken,
    /// The back of the queue, announced to idle siblings: a task that woke
    /// itself during its eager poll (its spawner keeps running) or a task
    /// spawned lazily (they start in spawn order).
    Back,
    /// The back of the queue, after the task's own poll on this worker,
    /// which picks its next task right away: a sibling is woken only if
    /// something else is queued here too.
    Yielded,
}

/// What a scheduler does for the tasks it owns.
pub(crate) trait Schedule: Clone + Send + Sync + 'static {
    /// Adds a promoted task to the owned-task list, or gives it back when
    /// the runtime is shutting down.
    fn bind(&self, task: Task) -> Result<(), Task>;
    /// Removes a completed task from the owned-task list.
    fn release(&self, task: NonNull<Header>) -> Option<Task>;
    /// Queues a woken task where `placement` says.
    fn schedule(&self, task: Notified, placement: Placement);
    /// A panic that no join handle will ever observe.
    fn unhandled_panic(&self, id: Id, payload: &(dyn Any + Send));
}

/// The default report of an unobserved panic.
pub(crate) fn print_unhandled_panic(id: Id, payload: &(dyn Any + Send)) {
    eprintln!(
        "keen: task {id} panicked and nobody observed it: {}",
        panic_message(payload)
    );
}

/// An untyped pointer to a task header; owns nothing by itself.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

impl RawTask {
    fn header(&self) -> &Header {
        // SAFETY: every `RawTask` in use belongs to a handle that holds a
        // reference, so the header is live.
        unsafe { self.ptr.as_ref() }
    }

    fn drop_reference(self) {
        let header = self.header();
        if header.state.ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { (header.vtable.dealloc)(self.ptr) };
        }
    }

    fn remote_abort(self) {
        let header = self.header();
        if header.state.transition_to_notified_and_cancel() {
            // SAFETY: the transition added the `Notified`'s reference; an
            // idle task was promoted, so its scheduler slot is set.
            unsafe { (header.vtable.schedule)(self.ptr, Placement::Woken) };
        }
    }
}

/// The owned-task list's reference to a task.
pub(crate) struct Task(RawTask);

// SAFETY: a `Task` is only used to shut the task down, which the state
// machine makes safe from any thread; for `!Send` futures the owning
// scheduler guarantees shutdown happens on the owning thread.
unsafe impl Send for Task {}
// SAFETY: `&Task` exposes nothing.
unsafe impl Sync for Task {}

impl Task {
    /// The task's header pointer (identity).
    #[cfg(all(test, loom))]
    pub(crate) fn ptr(&self) -> NonNull<Header> {
        self.0.ptr
    }

    /// Cancels the task at runtime shutdown, giving up this reference.
    pub(crate) fn shutdown(self) {
        let raw = ManuallyDrop::new(self).0;
        // SAFETY: the list's reference is handed to `shutdown`.
        unsafe { (raw.header().vtable.shutdown)(raw.ptr) }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.0.drop_reference();
    }
}

/// A queued wake: one reference that, when run, polls the task.
pub struct Notified(RawTask);

// SAFETY: a `Notified` crosses threads through the queues; running it is
// synchronised by the state word. For `!Send` futures the current-thread
// scheduler only ever runs them on the thread that owns them.
unsafe impl Send for Notified {}

impl Notified {
    /// Runs the task: poll it, cancel it, or drop a stale wake.
    pub(crate) fn run(self) {
        let raw = ManuallyDrop::new(self).0;
        // SAFETY: the `Notified` reference is handed to `run`.
        unsafe { (raw.header().vtable.run)(raw.ptr) }
    }

    /// The task's id.
    pub(crate) fn id(&self) -> Id {
        self.0.header().id
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        self.0.drop_reference();
    }
}

impl std::fmt::Debug for Notified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Notified").field(&self.id()).finish()
    }
}

/// Spawns `future` eagerly (see the module docs). Returns the join handle and
/// whether the task completed during its eager poll.
#[inline]
pub(crate) fn spawn_eager<F, S>(
    future: F,
    scheduler: &S,
    locals: Locals,
) -> (JoinHandle<F::Output>, bool)
where
    F: Future + 'static,
    S: Schedule,
{
    match harness::spawn_eager(future, scheduler, Id::next(), locals) {
        harness::Eager::Done(word, output) => (JoinHandle::ready(word, output), true),
        harness::Eager::Task(raw, completed) => (JoinHandle::new(raw), completed),
    }
}

/// Spawns `future` lazily: bound and queued, first polled by the scheduler.
pub(crate) fn spawn_lazy<F, S>(future: F, scheduler: &S, locals: Locals) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    S: Schedule,
{
    JoinHandle::new(harness::spawn_lazy(future, scheduler, Id::next(), locals))
}
