//! The task allocation: one `#[repr(C)]` block, hot header first, then the
//! scheduler handle and the stage (future, then output). Also the vtable that
//! lets type-erased handles reach the monomorphised code in `harness.rs`.

use std::cell::UnsafeCell as StdUnsafeCell;
use std::future::Future;
use std::ptr::NonNull;
use std::task::Waker;

use super::state::State;
use super::{Id, JoinError};
use crate::locals::Locals;
use crate::loom::UnsafeCell;

/// `Header::owned_slot` of a task not (yet) in the owned-task list.
pub(crate) const UNBOUND: usize = usize::MAX;

/// The part of a task every handle can see, whatever its future type.
///
/// Which field may be touched when:
/// - `state`: always (atomic).
/// - `vtable`, `id`: immutable after allocation.
/// - `owned_slot`: written when the task is bound to the owned-task list,
///   by its exclusive owner (the thread holding `RUNNING`, or the lazy
///   spawner before the task is queued) under the list's shard lock; read
///   under that lock, or by the `RUNNING` holder to learn whether the task
///   was ever bound ([`UNBOUND`] until then).
/// - `locals`: only by the thread that holds `RUNNING`.
/// - `join_waker`: by the `JoinHandle` while `JOIN_WAKER` is clear and the
///   task is not complete; by the task side once `JOIN_WAKER` was set when
///   it completed; dropped at deallocation.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    pub(crate) id: Id,
    pub(crate) owned_slot: StdUnsafeCell<usize>,
    pub(crate) locals: StdUnsafeCell<Locals>,
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: every non-`Sync` field is guarded by the rules in the doc comment
// above: `owned_slot` by the owner's exclusivity and a lock, `locals` and the stage by `RUNNING`, the join
// waker by the `JOIN_WAKER` protocol; the rest is atomic or immutable.
unsafe impl Send for Header {}
// SAFETY: shared access is safe for the same reason: every `&Header` user
// goes through the atomic state word, and the non-`Sync` fields are touched
// only by whoever the field rules above make exclusive at that moment.
unsafe impl Sync for Header {}

/// What the task holds: the future until it finishes, then its output until
/// the join handle takes it.
pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The whole allocation. `header` must stay first: handles hold a pointer to
/// it and cast back to the cell.
#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    pub(crate) header: Header,
    /// Set when the task is promoted (or created lazily, or panicked in its
    /// eager poll), while the setter holds `RUNNING`; read only after that.
    pub(crate) scheduler: UnsafeCell<Option<S>>,
    pub(crate) stage: UnsafeCell<Stage<F>>,
}

/// Type-erased entry points into the harness of one `(F, S)` pair.
pub(crate) struct Vtable {
    /// Runs a `Notified`: poll, cancel, or just drop the reference.
    pub(crate) run: unsafe fn(NonNull<Header>),
    /// Hands a `Notified` reference to the task's scheduler.
    pub(crate) schedule: unsafe fn(NonNull<Header>, super::Placement),
    /// Frees the allocation (the reference count reached zero).
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// Moves the output into `*dst` (a `Poll<Result<F::Output, JoinError>>`)
    /// if complete, else registers the waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// Drops a `JoinHandle`: interest, maybe the output, its reference.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Runtime shutdown: cancel the task, consuming an owned reference.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
}

impl<F: Future, S> Cell<F, S> {
    /// Allocates a task; returns the pointer to its header.
    #[inline]
    pub(crate) fn allocate(
        future: F,
        scheduler: Option<S>,
        initial_state: usize,
        id: Id,
        locals: Locals,
        vtable: &'static Vtable,
    ) -> NonNull<Header> {
        // Fields are written in place: building the cell on the stack and
        // moving it into the box made the copy's wide loads stall on the
        // narrow stores that had just built it (store-forwarding failure).
        // The block may be one this thread recycled (`recycle.rs`).
        let ptr = super::recycle::alloc(Self::LAYOUT).cast::<Cell<F, S>>();
        let ptr = ptr.as_ptr();
        // SAFETY: `ptr` points to an uninitialised block of the cell's
        // layout; each field is written exactly once, through raw field
        // pointers (no reference to uninitialised memory is made), so all
        // three are initialised when the pointer is handed out.
        unsafe {
            (&raw mut (*ptr).header).write(Header {
                state: State::new(initial_state),
                vtable,
                id,
                owned_slot: StdUnsafeCell::new(UNBOUND),
                locals: StdUnsafeCell::new(locals),
                join_waker: UnsafeCell::new(None),
            });
            (&raw mut (*ptr).scheduler).write(UnsafeCell::new(scheduler));
            (&raw mut (*ptr).stage).write(UnsafeCell::new(Stage::Running(future)));
        }
        // SAFETY: from a `NonNull` two lines up.
        unsafe { NonNull::new_unchecked(ptr) }.cast()
    }

    /// The layout of the task's one allocation.
    pub(crate) const LAYOUT: std::alloc::Layout = std::alloc::Layout::new::<Cell<F, S>>();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn header_fits_a_cache_line() {
        assert!(
            std::mem::size_of::<Header>() <= 64,
            "{}",
            std::mem::size_of::<Header>()
        );
        assert_eq!(
            std::mem::offset_of!(Cell<std::future::Ready<()>, ()>, header),
            0
        );
    }
}
