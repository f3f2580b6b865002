//! The unsafe glue: every operation on a task allocation, monomorphised per
//! `(future, scheduler)` pair and reached through the task's [`Vtable`].
//! Each function acts on the action a `state.rs` transition returned; that is
//! the only place where the stage, the scheduler slot and the join waker are
//! touched, and every access names the state rule that makes it exclusive.

use super::Placement;
use std::any::Any;
use std::future::Future;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::{Context, Poll, Waker};

use super::core::{Cell, Header, Stage, UNBOUND, Vtable};
use super::recycle;
use super::state::{State, ToIdle, ToRunning};
use super::waker::waker_ref;
use super::{JoinError, JoinHandle, Notified, RawTask, Schedule, Task};
use crate::context::{Current, CurrentGuard};
use crate::locals::Locals;

pub(crate) struct Harness<F: Future, S: Schedule> {
    cell: NonNull<Cell<F, S>>,
}

impl<F: Future, S: Schedule> Harness<F, S> {
    pub(crate) const VTABLE: &'static Vtable = &Vtable {
        run: Self::run,
        schedule: Self::schedule_raw,
        dealloc: Self::dealloc_raw,
        try_read_output: Self::try_read_output,
        drop_join_handle: Self::drop_join_handle,
        shutdown: Self::shutdown,
    };

    /// # Safety
    /// `ptr` points to the header of a live `Cell<F, S>`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Harness { cell: ptr.cast() }
    }

    fn cell(&self) -> &Cell<F, S> {
        // SAFETY: `from_raw`'s contract; the caller holds a reference, so the
        // allocation outlives `self`.
        unsafe { self.cell.as_ref() }
    }

    fn header(&self) -> &Header {
        &self.cell().header
    }

    fn header_ptr(&self) -> NonNull<Header> {
        self.cell.cast()
    }

    fn state(&self) -> &State {
        &self.header().state
    }

    fn scheduler(&self) -> Option<&S> {
        // SAFETY: the slot is written only by the holder of RUNNING before
        // it releases RUNNING (or sets COMPLETE) with a Release transition;
        // everyone reading it got here through an Acquire of a later state.
        self.cell().scheduler.with(|s| unsafe { (*s).as_ref() })
    }

    /// Stores the scheduler handle. Caller holds `RUNNING` during the eager
    /// poll, before any other thread may read the slot.
    pub(crate) fn set_scheduler(&self, scheduler: S) {
        // SAFETY: only the RUNNING holder writes, and no reader runs until
        // RUNNING is released (see `scheduler`).
        self.cell()
            .scheduler
            .with_mut(|s| unsafe { *s = Some(scheduler) });
    }

    /// Swaps the stage out. Caller has exclusive access to the stage: it
    /// holds `RUNNING`, or owns the output after `COMPLETE`.
    fn take_stage(&self) -> Stage<F> {
        // SAFETY: exclusivity is the caller's contract above.
        self.cell()
            .stage
            .with_mut(|s| unsafe { mem::replace(&mut *s, Stage::Consumed) })
    }

    fn set_stage(&self, stage: Stage<F>) {
        // SAFETY: as `take_stage`; the old value is `Consumed` (no drop runs).
        self.cell().stage.with_mut(|s| unsafe {
            debug_assert!(matches!(*s, Stage::Consumed));
            s.write(stage)
        });
    }

    fn current(&self) -> Current {
        Current::task(Some(self.header().id), &self.header().locals)
    }

    /// Polls the future once with the task's context installed; on `Ready`
    /// or a panic, drops the future and stores the output. Caller holds
    /// `RUNNING` (which makes the stage and locals exclusively its own).
    pub(crate) fn poll_future(&self) -> Poll<()> {
        match self.poll_output() {
            Poll::Ready(output) => {
                self.set_stage(Stage::Finished(output));
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// [`poll_future`](Self::poll_future) without storing the output: it is
    /// returned (the future is dropped, the stage left `Consumed`). Inlined
    /// so an eager spawn can hand a ready output straight to its join
    /// handle, in registers, instead of through the stage.
    #[inline(always)]
    fn poll_output(&self) -> Poll<Result<F::Output, JoinError>> {
        let header = self.header();
        let waker = waker_ref(self.header_ptr());
        let mut cx = Context::from_waker(&waker);
        let _current = CurrentGuard::enter(self.current());
        let polled = panic::catch_unwind(AssertUnwindSafe(|| {
            self.cell().stage.with_mut(|stage| {
                // SAFETY: RUNNING gives this thread the stage exclusively.
                let stage = unsafe { &mut *stage };
                let Stage::Running(future) = stage else {
                    unreachable!("a task was polled after it completed")
                };
                // SAFETY: the future is never moved: it stays in the heap
                // cell until dropped (`take_stage` runs only once it
                // completed or is cancelled, and then drops it in place of
                // polling it again).
                let future = unsafe { Pin::new_unchecked(future) };
                future.poll(&mut cx)
            })
        }));
        Poll::Ready(match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(output)) => match self.drop_finished_future() {
                Ok(()) => Ok(output),
                Err(payload) => {
                    // The drop's panic is the one reported; the output goes,
                    // and a panic from its own drop is caught and discarded
                    // (it must not unwind out of the poll with the task
                    // still `RUNNING`).
                    let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(output)));
                    Err(JoinError::panic(header.id, payload))
                }
            },
            Err(payload) => {
                // The poll's panic is the one reported; a second panic from
                // dropping the broken future is caught and discarded.
                let _ = self.drop_future();
                Err(JoinError::panic(header.id, payload))
            }
        })
    }

    /// Drops the future (or anything else in the stage) in place under
    /// `catch_unwind`, leaving the stage `Consumed`. Caller has exclusive
    /// access to the stage (see `take_stage`).
    fn drop_future(&self) -> Result<(), Box<dyn Any + Send>> {
        self.cell().stage.with_mut(|stage| {
            // SAFETY: the caller holds `RUNNING` (or the last reference),
            // which gives it exclusive access to the stage. Whether or not
            // `drop_in_place` unwinds, the value counts as dropped, so the
            // slot is overwritten without dropping it again.
            let dropped =
                panic::catch_unwind(AssertUnwindSafe(|| unsafe { ptr::drop_in_place(stage) }));
            // SAFETY: still exclusive (same caller); the old value was just
            // dropped, so writing over it without dropping loses nothing.
            unsafe { stage.write(Stage::Consumed) };
            dropped
        })
    }

    /// [`drop_future`](Self::drop_future) for a future that just returned
    /// `Ready`: the stage is known to be `Running`, so only the future is
    /// dropped (nothing at all for a future without drop glue) and the
    /// stage's tag is never read. Same contract as `drop_future`.
    #[inline]
    fn drop_finished_future(&self) -> Result<(), Box<dyn Any + Send>> {
        self.cell().stage.with_mut(|stage| {
            // SAFETY: exclusive access per the caller's contract; the future
            // is dropped in place (it is pinned) and, whether or not its
            // drop unwinds, counts as dropped, so the slot is overwritten
            // without dropping anything again.
            unsafe {
                let Stage::Running(future) = &mut *stage else {
                    unreachable!("the future that returned Ready is in the stage")
                };
                let future: *mut F = future;
                let dropped = if mem::needs_drop::<F>() {
                    panic::catch_unwind(AssertUnwindSafe(|| ptr::drop_in_place(future)))
                } else {
                    Ok(())
                };
                stage.write(Stage::Consumed);
                dropped
            }
        })
    }

    /// Moves the output out of a finished stage, leaving it `Consumed`.
    /// Reads only the output, not the whole stage (a wide copy of the
    /// stage stalled on the narrow stores that had just written it). The
    /// caller owns the output (the join handle after `COMPLETE`).
    fn take_output(&self) -> Result<F::Output, JoinError> {
        self.cell().stage.with_mut(|stage| {
            // SAFETY: the caller owns the stage; the output is moved out by
            // `ptr::read` and the slot overwritten without dropping it.
            unsafe {
                let Stage::Finished(output) = &*stage else {
                    panic!("JoinHandle polled after it returned its output")
                };
                let output = ptr::read(output);
                stage.write(Stage::Consumed);
                output
            }
        })
    }

    /// Cancels: drops the future with the task's context installed, stores
    /// `Cancelled` (or the drop's panic), completes. Caller holds `RUNNING`
    /// and one reference, which `complete` consumes.
    pub(crate) fn cancel(self) {
        let id = self.header().id;
        let dropped = {
            let _current = CurrentGuard::enter(self.current());
            self.drop_future()
        };
        let err = match dropped {
            Ok(()) => JoinError::cancelled(id),
            Err(payload) => JoinError::panic(id, payload),
        };
        self.set_stage(Stage::Finished(Err(err)));
        self.complete();
    }

    /// Finishes a task whose stage holds its output. Caller holds `RUNNING`
    /// and one reference; both are given up here.
    pub(crate) fn complete(self) {
        // The locals go with the future: take them while RUNNING still makes
        // them ours, drop them once the task is complete.
        // SAFETY: RUNNING is held (see the field rules in `core.rs`).
        let locals = unsafe { mem::take(&mut *self.header().locals.get()) };
        // Out of the owned-task list before anyone can see it complete: a
        // join handle that resolved never leaves its task counted live.
        let released = self
            .scheduler()
            .filter(|_| self.is_bound())
            .and_then(|s| s.release(self.header_ptr()))
            .map(mem::ManuallyDrop::new);
        let prev = self.state().transition_to_complete();
        if !prev.is_join_interested() {
            // Nobody can ever read the output: it is ours to drop.
            self.drop_unread_output();
        } else if prev.is_join_waker_set() {
            self.header().join_waker.with(|w| {
                // SAFETY: JOIN_WAKER was set when COMPLETE was: the handle
                // no longer writes the slot, and it was filled before the bit.
                if let Some(waker) = unsafe { &*w } {
                    // Behind the queue, not next: see `Placement::Yielded`.
                    super::waker::wake_by_ref_placed(waker, Placement::Yielded);
                }
            });
        }
        self.drop_locals(locals);
        let refs = 1 + released.is_some() as usize;
        if self.state().ref_dec_by(refs) {
            // SAFETY: that was the last reference.
            unsafe { self.dealloc() };
        }
    }

    /// Completes a task that finished in its eager poll. Fast path when the
    /// poller and the unreturned join handle are its only references (see
    /// `State::try_complete_exclusive`); else the general [`complete`].
    /// Caller holds `RUNNING` and the poller's reference.
    ///
    /// [`complete`]: Self::complete
    pub(crate) fn complete_eager(self) {
        // SAFETY: RUNNING is held (see the field rules in `core.rs`).
        let locals = unsafe { mem::take(&mut *self.header().locals.get()) };
        if self.state().try_complete_exclusive() {
            // Join interest is set and no join waker was registered (the
            // handle was never polled): the output waits for the handle.
            self.drop_locals(locals);
        } else {
            self.drop_locals(locals);
            self.complete();
        }
    }

    /// Drops an output nobody will read; a panic in it is reported to the
    /// runtime's unhandled-panic policy. Caller owns the output (`COMPLETE`
    /// without join interest, or the join handle after `COMPLETE`).
    fn drop_unread_output(&self) {
        // SAFETY: the caller owns the output (see above), so the stage is
        // ours to read.
        let consumed = self
            .cell()
            .stage
            .with(|s| unsafe { matches!(*s, Stage::Consumed) });
        if consumed {
            return; // the handle already took it
        }
        let stage = self.take_stage();
        if let Stage::Finished(Err(err)) = &stage {
            if let Some(payload) = err.panic_payload() {
                self.report_unhandled(payload);
            }
        }
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(move || drop(stage))) {
            self.report_unhandled(&*payload);
        }
    }

    /// Drops a finished task's task-locals. A panic in a value's drop is
    /// reported like an unobserved task panic; it never unwinds into the
    /// scheduler (or the spawner, for an eager task) with the task half
    /// completed.
    #[inline]
    fn drop_locals(&self, locals: Locals) {
        if !locals.is_empty() {
            self.drop_some_locals(locals);
        }
    }

    #[cold]
    #[inline(never)]
    fn drop_some_locals(&self, locals: Locals) {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(move || drop(locals))) {
            self.report_unhandled(&*payload);
        }
    }

    fn report_unhandled(&self, payload: &(dyn Any + Send)) {
        match self.scheduler() {
            Some(s) => s.unhandled_panic(self.header().id, payload),
            None => super::print_unhandled_panic(self.header().id, payload),
        }
    }

    /// Whether the task was ever bound to the owned-task list (a promoted
    /// task is bound only once it goes idle: see `bind_before_idle`).
    /// Caller holds `RUNNING`.
    fn is_bound(&self) -> bool {
        // SAFETY: `owned_slot` is written only by the task's exclusive owner
        // (see the field rules in `core.rs`), which the RUNNING holder is.
        unsafe { *self.header().owned_slot.get() != UNBOUND }
    }

    /// Before a promoted task that is not in the owned-task list goes idle
    /// (pending and not woken: only a waker can reach it then), binds it.
    /// A task that woke itself is queued instead and stays unbound: a queue
    /// reaches it at shutdown (the drains shut queued tasks down), so a task
    /// that yields in its eager step and then completes never touches the
    /// list. Caller holds `RUNNING` and the poller's reference; `false` if
    /// the list is closed, and then the task was cancelled, which consumed
    /// both.
    ///
    /// The check is inlined into every pending poll; the binding is not.
    #[inline]
    fn bind_before_idle(&self) -> bool {
        if self.is_bound() || self.state().load().is_notified() {
            // Bound already, or about to be queued (nobody else clears
            // NOTIFIED while RUNNING is held).
            return true;
        }
        self.bind_now()
    }

    /// The binding half of [`bind_before_idle`](Self::bind_before_idle).
    #[inline(never)]
    fn bind_now(&self) -> bool {
        let scheduler = self.scheduler().expect("a promoted task has a scheduler");
        self.state().ref_inc(); // the owned-task list's reference
        match bind(scheduler, self.header_ptr()) {
            Ok(()) => true,
            Err(task) => {
                // Shutting down: give the list's reference back, cancel.
                mem::forget(task);
                let _ = self.state().ref_dec();
                Self { cell: self.cell }.cancel();
                false
            }
        }
    }

    /// Finishes a poll that returned `Pending`. Caller holds `RUNNING` and
    /// the poller's reference, which ends up dropped or queued (at
    /// `placement` if the task woke itself meanwhile).
    pub(crate) fn after_pending(self, placement: Placement) {
        match self.state().transition_to_idle() {
            ToIdle::Idle => self.drop_reference(),
            // SAFETY: the poller's reference becomes the `Notified`'s.
            ToIdle::Notified => unsafe { Self::schedule_raw(self.header_ptr(), placement) },
            ToIdle::Cancelled => self.cancel(),
        }
    }

    pub(crate) fn drop_reference(self) {
        if self.state().ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { self.dealloc() };
        }
    }

    /// # Safety
    /// No reference to the task remains.
    unsafe fn dealloc(self) {
        let cell = self.cell.as_ptr();
        // SAFETY: the cell was initialised by `Cell::allocate` and the
        // caller guarantees nothing refers to it any more: its fields are
        // dropped once, here, and the block is given back once, after.
        unsafe {
            std::ptr::drop_in_place(cell);
            recycle::free(self.cell.cast(), Cell::<F, S>::LAYOUT);
        }
    }

    /// Frees the allocation without running any field's drop.
    ///
    /// # Safety
    /// No reference to the task remains, and no field owns anything: the
    /// locals were taken, no join waker or scheduler was stored, and the
    /// stage is `Consumed`.
    unsafe fn free_empty(self) {
        // SAFETY: no reference remains (the contract), so nothing writes it.
        debug_assert!(self.header().join_waker.with(|w| unsafe { (*w).is_none() }));
        debug_assert!(self.scheduler().is_none());
        // SAFETY: the block came from `recycle::alloc` in `Cell::allocate`
        // with this layout, and by the contract nothing refers to it and
        // dropping its fields would do nothing, so giving it back without
        // dropping them loses nothing.
        unsafe { recycle::free(self.cell.cast(), Cell::<F, S>::LAYOUT) };
    }

    // ---- vtable entries -------------------------------------------------

    /// # Safety
    /// `ptr` is a `Cell<F, S>` header and the caller gives up a `Notified`
    /// reference.
    unsafe fn run(ptr: NonNull<Header>) {
        // SAFETY: the vtable entry is called only through this cell's own
        // header (so `ptr` is a `Cell<F, S>`), with a `Notified` reference
        // keeping it alive for the call.
        let harness = unsafe { Self::from_raw(ptr) };
        match harness.state().transition_to_running() {
            ToRunning::Success => match harness.poll_future() {
                Poll::Ready(()) => harness.complete(),
                Poll::Pending => {
                    if harness.bind_before_idle() {
                        harness.after_pending(Placement::Yielded);
                    }
                }
            },
            ToRunning::Cancelled => harness.cancel(),
            ToRunning::Failed => harness.drop_reference(),
        }
    }

    /// # Safety
    /// `ptr` is a `Cell<F, S>` header whose scheduler slot is set, and the
    /// caller gives up a reference that becomes the `Notified`'s.
    unsafe fn schedule_raw(ptr: NonNull<Header>, placement: Placement) {
        // SAFETY: `ptr` is this cell's header (reached through its own
        // vtable) and the reference given up keeps it alive.
        let harness = unsafe { Self::from_raw(ptr) };
        let notified = Notified(RawTask { ptr });
        harness
            .scheduler()
            .expect("only a promoted task can be scheduled")
            .schedule(notified, placement);
    }

    /// # Safety
    /// `ptr` is a `Cell<F, S>` header with no reference left.
    unsafe fn dealloc_raw(ptr: NonNull<Header>) {
        // SAFETY: `ptr` is this cell's header (reached through its own
        // vtable) and the state word's reference count just reached zero,
        // so nothing else can reach the allocation.
        unsafe { Self::from_raw(ptr).dealloc() }
    }

    /// # Safety
    /// `ptr` is a `Cell<F, S>` header, the caller is its join handle, and
    /// `dst` points to a `Poll<Result<F::Output, JoinError>>`.
    unsafe fn try_read_output(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
        // SAFETY: `ptr` is this cell's header (reached through its own
        // vtable), kept alive by the join handle's reference.
        let harness = unsafe { Self::from_raw(ptr) };
        if harness.can_read_output(waker) {
            let output = harness.take_output();
            // SAFETY: `dst` type per the caller's contract; the old value is
            // `Poll::Pending`, which has nothing to drop.
            unsafe { *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(output) };
        }
    }

    /// Join-waker protocol, handle side. `true` once the task is complete
    /// (the output is then the handle's to take).
    fn can_read_output(&self, waker: &Waker) -> bool {
        let snapshot = self.state().load();
        if snapshot.is_complete() {
            return true;
        }
        let slot = &self.header().join_waker;
        if snapshot.is_join_waker_set() {
            // SAFETY: while JOIN_WAKER is set the slot is only read (by us
            // and by a completing task), never written.
            let same = slot.with(|w| unsafe { (*w).as_ref() }.is_some_and(|w| w.will_wake(waker)));
            if same {
                return false;
            }
            if self.state().unset_join_waker().is_err() {
                return true;
            }
        }
        // SAFETY: JOIN_WAKER is clear and the task is not complete, so the
        // handle alone may write the slot.
        slot.with_mut(|w| unsafe { *w = Some(waker.clone()) });
        self.state().set_join_waker().is_err()
    }

    /// # Safety
    /// `ptr` is a `Cell<F, S>` header; the caller is its join handle, whose
    /// reference and interest are given up.
    unsafe fn drop_join_handle(ptr: NonNull<Header>) {
        // SAFETY: `ptr` is this cell's header (reached through its own
        // vtable); the join handle's reference keeps it alive until
        // `drop_reference` or `dealloc` below gives that reference up.
        let harness = unsafe { Self::from_raw(ptr) };
        if harness.state().is_complete_and_last_reference() {
            // Nothing else refers to the task: drop what is left and free it
            // without touching the state word again.
            harness.drop_unread_output();
            // SAFETY: ours was the last reference.
            unsafe { harness.dealloc() };
            return;
        }
        if harness.state().unset_join_interest().is_err() {
            // Complete while we were interested: the output is ours.
            harness.drop_unread_output();
        }
        harness.drop_reference();
    }

    /// # Safety
    /// `ptr` is a `Cell<F, S>` header and the caller gives up a reference:
    /// the owned list's (already removed from the list) or a queued
    /// `Notified`'s.
    unsafe fn shutdown(ptr: NonNull<Header>) {
        // SAFETY: `ptr` is this cell's header (reached through its own
        // vtable), kept alive by the reference handed over.
        let harness = unsafe { Self::from_raw(ptr) };
        if harness.state().transition_to_shutdown() {
            harness.cancel();
        } else {
            harness.drop_reference();
        }
    }
}

/// Spawns `future` eagerly (the protocol is in `eager.rs`). Returns the join
/// handle and whether the task completed during its eager poll.
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
    match spawn_eager_raw(future, scheduler, super::Id::next(), locals) {
        Eager::Done(word, output) => (JoinHandle::ready(word, output), true),
        Eager::Task(raw, completed) => (JoinHandle::new(raw), completed),
    }
}

/// Spawns `future` lazily: bound and queued, first polled by the scheduler.
pub(crate) fn spawn_lazy<F, S>(future: F, scheduler: &S, locals: Locals) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    S: Schedule,
{
    JoinHandle::new(spawn_lazy_raw(future, scheduler, super::Id::next(), locals))
}

/// What an eager spawn leaves for its join handle.
enum Eager<T> {
    /// The task finished in its eager poll and nothing else ever referred
    /// to it: it is already freed, and this is its output (and its join
    /// handle's word).
    Done(std::num::NonZeroUsize, T),
    /// The task, finished during the eager poll (`true`) or promoted.
    Task(RawTask, bool),
}

/// Spawns with the eager protocol (`eager.rs`, steps 2–4): allocate, poll in
/// place with the child's context, then complete or promote.
#[inline]
fn spawn_eager_raw<F, S>(
    future: F,
    scheduler: &S,
    id: super::Id,
    locals: Locals,
) -> Eager<F::Output>
where
    F: Future + 'static,
    S: Schedule,
{
    let ptr = Cell::<F, S>::allocate(
        future,
        None,
        super::state::INITIAL_EAGER,
        id,
        locals,
        Harness::<F, S>::VTABLE,
    );
    // SAFETY: just allocated as a `Cell<F, S>`; we hold the poller's reference.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    let raw = RawTask { ptr };
    match harness.poll_output() {
        Poll::Ready(Ok(output)) if harness.state().is_exclusive_eager() => {
            let Some(word) = JoinHandle::<F::Output>::done_word(id) else {
                harness.set_stage(Stage::Finished(Ok(output)));
                harness.complete_eager();
                return Eager::Task(raw, true);
            };
            // SAFETY: RUNNING is held (see the field rules in `core.rs`).
            let locals = unsafe { mem::take(&mut *harness.header().locals.get()) };
            harness.drop_locals(locals);
            // SAFETY: the word is `INITIAL_EAGER` give or take `NOTIFIED`:
            // the poller and the join handle (not handed out yet) hold the
            // only references, no waker clone is alive and nothing aborted
            // the task, so nothing else can reach it.
            // Nothing is left to drop: the locals were just taken, no join
            // waker or scheduler was ever stored, and `poll_output` dropped
            // the future, leaving the stage `Consumed`.
            unsafe { harness.free_empty() };
            Eager::Done(word, output)
        }
        Poll::Ready(output) => {
            if matches!(&output, Err(e) if e.is_panic()) {
                // The handle may drop the panic unread; it then reports it
                // through the runtime's policy, which needs the scheduler.
                harness.set_scheduler(scheduler.clone());
            }
            harness.set_stage(Stage::Finished(output));
            harness.complete_eager();
            Eager::Task(raw, true)
        }
        Poll::Pending => {
            harness.set_scheduler(scheduler.clone());
            if harness.bind_before_idle() {
                // The spawner keeps running: a self-wake must be visible
                // to idle siblings.
                harness.after_pending(Placement::Promoted);
            }
            Eager::Task(raw, false)
        }
    }
}

/// Binds the task at `ptr` to `scheduler`'s owned-task list, handing it a
/// reference the caller took; `owned_slot` stops reading [`UNBOUND`] (the
/// list overwrites it with its slot; a scheduler that keeps no slots, as
/// the loom models' one, leaves the mark). Caller is the task's exclusive
/// owner (it holds `RUNNING`, or has not queued the task yet).
fn bind<S: Schedule>(scheduler: &S, ptr: NonNull<Header>) -> Result<(), Task> {
    // SAFETY: the caller owns the task exclusively (above), so nothing else
    // reads or writes `owned_slot` now (see the field rules in `core.rs`).
    unsafe { *ptr.as_ref().owned_slot.get() = BOUND };
    let bound = scheduler.bind(Task(RawTask { ptr }));
    if bound.is_err() {
        // SAFETY: as above; the list refused the task, so it never wrote.
        unsafe { *ptr.as_ref().owned_slot.get() = UNBOUND };
    }
    bound
}

/// `owned_slot` while a bind is under way (until the list writes its slot).
const BOUND: usize = UNBOUND - 1;

/// Spawns lazily: allocate notified, bind, queue.
fn spawn_lazy_raw<F, S>(future: F, scheduler: &S, id: super::Id, locals: Locals) -> RawTask
where
    F: Future + 'static,
    S: Schedule,
{
    let ptr = Cell::<F, S>::allocate(
        future,
        Some(scheduler.clone()),
        super::state::INITIAL_LAZY,
        id,
        locals,
        Harness::<F, S>::VTABLE,
    );
    let raw = RawTask { ptr };
    let notified = Notified(raw);
    match bind(scheduler, ptr) {
        // To the back of the queue, like a yield: lazily spawned tasks
        // start in spawn order (trio's order for a lazy task group).
        Ok(()) => scheduler.schedule(notified, Placement::Back),
        Err(task) => {
            // Shutting down: cancel at once; then drop the queue reference.
            task.shutdown();
            drop(notified);
        }
    }
    raw
}
