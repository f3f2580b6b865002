//! The `Waker` vtable over a task pointer: a waker is one task reference.
//!
//! The waker's data pointer is the task's own pointer (from its allocation),
//! never one re-derived from a `&Header`: the last waker may free the whole
//! task through it, which needs the allocation's provenance, not the
//! header's.

use super::Placement;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::core::Header;
use super::state::ToNotified;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker for the poll under way that borrows the poller's reference: it
/// must not be dropped (hence `ManuallyDrop`); clones take their own.
pub(crate) fn waker_ref(task: NonNull<Header>) -> ManuallyDrop<Waker> {
    let raw = RawWaker::new(task.as_ptr().cast_const().cast(), &VTABLE);
    // SAFETY: the vtable's functions uphold the `RawWaker` contract for a
    // pointer to a live task header; the poller's reference keeps it live
    // for as long as this borrowed waker can be used.
    ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
}

/// # Safety
/// `ptr` is a live task header on which the caller owns a reference.
unsafe fn header<'a>(ptr: *const ()) -> &'a Header {
    // SAFETY: the caller owns a reference to the task at `ptr` (every waker
    // is one), so the header is live for as long as the caller uses it.
    unsafe { &*(ptr as *const Header) }
}

/// The task pointer a waker carries, with the provenance it was made with.
fn task(ptr: *const ()) -> NonNull<Header> {
    NonNull::new(ptr.cast_mut().cast()).expect("a waker's task pointer is never null")
}

unsafe fn clone(ptr: *const ()) -> RawWaker {
    // SAFETY: a waker is a reference to the task, so it is live.
    unsafe { header(ptr) }.state.ref_inc();
    RawWaker::new(ptr, &VTABLE)
}

unsafe fn wake(ptr: *const ()) {
    // SAFETY: the waker's reference keeps the header live until consumed here.
    let header = unsafe { header(ptr) };
    let raw = task(ptr);
    match header.state.transition_to_notified_by_val() {
        // SAFETY: the waker's reference became the `Notified`'s; an idle
        // task has been promoted, so its scheduler slot is set.
        ToNotified::Submit => unsafe { (header.vtable.schedule)(raw, Placement::Woken) },
        // SAFETY: that was the last reference.
        ToNotified::Dealloc => unsafe { (header.vtable.dealloc)(raw) },
        ToNotified::DoNothing => {}
    }
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: the waker's reference keeps the header live.
    let header = unsafe { header(ptr) };
    match header.state.transition_to_notified_by_ref() {
        // SAFETY: the transition added a reference for the `Notified`; an
        // idle task has been promoted, so its scheduler slot is set.
        ToNotified::Submit => unsafe { (header.vtable.schedule)(task(ptr), Placement::Woken) },
        ToNotified::Dealloc | ToNotified::DoNothing => {}
    }
}

/// Wakes `waker` as [`Waker::wake_by_ref`] does, except that a keen task
/// waker queues its task with `placement` instead of [`Placement::Woken`]:
/// for wakes whose caller knows better than "run next" (a completing task
/// waking the task that awaits its join handle).
pub(crate) fn wake_by_ref_placed(waker: &Waker, placement: Placement) {
    if !std::ptr::eq(waker.vtable(), &VTABLE) {
        waker.wake_by_ref();
        return;
    }
    let ptr = waker.data();
    // SAFETY: the vtable is this file's, so the data pointer is a task
    // pointer on which `waker` owns a reference, live while it is borrowed.
    let header = unsafe { header(ptr) };
    match header.state.transition_to_notified_by_ref() {
        // SAFETY: as in `wake_by_ref`.
        ToNotified::Submit => unsafe { (header.vtable.schedule)(task(ptr), placement) },
        ToNotified::Dealloc | ToNotified::DoNothing => {}
    }
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: the waker's reference keeps the header live until dropped here.
    let header = unsafe { header(ptr) };
    if header.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { (header.vtable.dealloc)(task(ptr)) };
    }
}
