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
//! are in `core.rs`. The unsafe glue that acts on state transitions is in
//! `harness.rs`; the other files with `unsafe` are `core.rs` (allocation,
//! `Send`/`Sync` of the header), `recycle.rs` (the per-thread cache of
//! freed task blocks), `join.rs` (the handles' vtable calls and
//! the output word), `waker.rs` (the waker vtable), `closure.rs` and this
//! file (vtable calls on a raw task), each block with its invariant.
//!
//! # Eager spawn and promotion
//! The protocol is written down once, in `eager.rs` (when a spawn may poll
//! in place, and the numbered steps); `spawn_eager` in `harness.rs` is its
//! unsafe half: allocate in state `INITIAL_EAGER` (`RUNNING | JOIN_INTEREST`,
//! two references: the join handle's and the poller's), poll in place with
//! the child's context installed, then complete (freeing the task in place
//! when nothing else refers to it) or promote.
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

mod closure;
mod core;
mod error;
mod harness;
mod id;
mod join;
mod list;
mod recycle;
pub(crate) mod state;
mod waker;

use std::any::Any;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

pub use closure::{ClosureTask, closure};
pub use error::{JoinError, panic_message};
pub(crate) use harness::{spawn_eager, spawn_lazy};
pub use id::Id;
pub use join::{AbortHandle, JoinHandle};
pub(crate) use list::OwnedTasks;

pub(crate) use self::core::Header;

/// Where a scheduler queues a task it is handed (multi-thread; the
/// current-thread scheduler has one FIFO queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Woken by something else: the LIFO slot, run next for locality.
    Woken,
    /// The back of the queue, announced to idle siblings: a task spawned
    /// lazily (they start in spawn order).
    Back,
    /// As [`Back`](Self::Back), for a task that woke itself during its
    /// eager poll (its spawner keeps running). On a multi-thread `block_on`
    /// thread, the one kind of task that thread may later run itself while
    /// its root waits (`BlockOn::help`): its first step already ran there.
    Promoted,
    /// The back of the queue, during a poll on this worker that ends right
    /// after (so the worker picks its next task at once): a sibling is
    /// woken only if something else is queued here too. A task that woke
    /// itself in its own poll (a yield), and the task awaiting the join
    /// handle of a task completing here: queued behind the work already
    /// waiting, it is not polled once per child when it awaits many
    /// children in turn (it reads them all in one poll instead).
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

    /// Cancels the queued task at runtime shutdown (drops its future
    /// unless it completed or is being polled), giving up this reference.
    /// Every queue drained at shutdown goes through here, not `drop`: a
    /// task that woke itself in its eager step is queued before it is ever
    /// bound to the owned-task list, so the queue is the only way to it.
    pub(crate) fn shutdown(self) {
        let raw = ManuallyDrop::new(self).0;
        // SAFETY: the `Notified` reference is handed to `shutdown`.
        unsafe { (raw.header().vtable.shutdown)(raw.ptr) }
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
