//! [`Run`]: the future of [`CancelScope::run`], and the scoped poll it shares
//! with the lazy scopes of the helpers ([`super::lazy`]): where cancellation
//! is delivered.
//!
//! Each poll makes the scope the innermost one on this thread while its body
//! is polled (so scopes entered inside link to it), polls the body first, and
//! only when the body is pending looks at cancellation. A cancelled scope
//! catches — drops its body and returns `Err(Cancelled)` — unless a shielded
//! scope inside is still pending, or its parent is cancelled too and is
//! polling it right now (then the parent, further out, catches).

use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::sync::Arc;
use std::task::{Context, Poll};

use keen_scheduler::context::{PollSlotGuard, poll_slot};
use pin_project_lite::pin_project;

use super::inner::ScopeInner;
use super::lazy;
use super::{CancelReason, CancelScope, Cancelled};

pin_project! {
    /// Runs a body inside a [`CancelScope`]; see [`CancelScope::run`].
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Run<F> {
        scope: CancelScope,
        entered: bool,
        #[pin]
        body: Option<F>,
    }

    impl<F> PinnedDrop for Run<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.entered {
                drop_body(&this.scope.inner, this.body);
            }
        }
    }
}

impl<F> Run<F> {
    pub(crate) fn new(scope: CancelScope, body: F) -> Run<F> {
        Run {
            scope,
            entered: false,
            body: Some(body),
        }
    }

    /// A run of a scope the caller has entered already (a task group's
    /// child, entered under the group's scope when spawned).
    pub(crate) fn entered(scope: CancelScope, body: F) -> Run<F> {
        Run {
            scope,
            entered: true,
            body: Some(body),
        }
    }

    /// The scope this body runs in.
    pub fn scope(&self) -> &CancelScope {
        &self.scope
    }
}

impl<F: Future> Future for Run<F> {
    type Output = Result<F::Output, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let scope = &*this.scope;
        poll_scoped(&scope.inner, this.entered, this.body, cx)
            .map(|r| r.map_err(|reason| Cancelled::new(reason, scope.clone())))
    }
}

/// One poll of `body` inside `inner`, entering the scope on the first.
pub(super) fn poll_scoped<F: Future>(
    inner: &Arc<ScopeInner>,
    entered: &mut bool,
    mut body: Pin<&mut Option<F>>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, CancelReason>> {
    let outer = current_inner();
    if !*entered {
        inner.enter(share(outer));
        *entered = true;
    }
    let polled = {
        let _scope = enter_scope(inner);
        poll_body(body.as_mut(), cx)
    };
    match polled {
        Poll::Ready(out) => {
            finish(inner, body);
            Poll::Ready(Ok(out))
        }
        Poll::Pending => deliver(inner, outer, body, cx),
    }
}

/// The panic of a scope's future polled again after it completed.
pub(super) const POLLED_AFTER_COMPLETION: &str = "a scope's future was polled after it completed";

/// Polls a body that has not completed yet.
pub(super) fn poll_body<F: Future>(
    body: Pin<&mut Option<F>>,
    cx: &mut Context<'_>,
) -> Poll<F::Output> {
    body.as_pin_mut().expect(POLLED_AFTER_COMPLETION).poll(cx)
}

/// The body completed: drop its remains and leave the scope.
pub(super) fn finish<F>(inner: &Arc<ScopeInner>, body: Pin<&mut Option<F>>) {
    let _exit = ExitOnDrop(inner);
    clear(body);
}

/// The body is pending inside `inner`, which `outer` (the scope innermost
/// around this poll, or null) encloses: deliver a cancellation if this scope
/// is the one to catch it.
pub(super) fn deliver<T, F>(
    inner: &Arc<ScopeInner>,
    outer: *const ScopeInner,
    body: Pin<&mut Option<F>>,
    cx: &mut Context<'_>,
) -> Poll<Result<T, CancelReason>> {
    // Make the waker visible to cancellers (here and in the parent's child
    // list) *before* reading the cancellation state: a `cancel()` on another
    // thread either is seen below or finds the waker.
    inner.arm(cx.waker());
    let Some(reason) = inner.effective_reason() else {
        return Poll::Pending;
    };
    // The parent catches only if its cancellation reaches this body (we are
    // not shielded) and it is polling us right now.
    let parent_catches = !inner.is_shielded()
        && inner.parent().is_some_and(|parent| {
            std::ptr::eq(std::ptr::from_ref(parent), outer) && parent.cancelled_or_due()
        });
    if inner.shields_inside() > 0 || parent_catches {
        return Poll::Pending;
    }
    drop_body(inner, body);
    inner.set_caught();
    Poll::Ready(Err(reason))
}

/// Drops a pending body inside its scope (scopes in its destructor see it),
/// then leaves the scope, even if the body's destructor panics.
pub(super) fn drop_body<F>(inner: &Arc<ScopeInner>, body: Pin<&mut Option<F>>) {
    let _exit = ExitOnDrop(inner);
    let _scope = enter_scope(inner);
    clear(body);
}

/// Drops the body in place and leaves `None` in its slot — also when the
/// body's destructor panics. (`Pin::set(None)` would leave the half-dropped
/// value in the slot on that unwind, for the future's own destructor to drop
/// a second time.)
pub(super) fn clear<F>(body: Pin<&mut Option<F>>) {
    /// Writes `None` over the slot without dropping what it holds.
    struct WriteNone<F>(*mut Option<F>);

    impl<F> Drop for WriteNone<F> {
        fn drop(&mut self) {
            // SAFETY: the slot is valid for writes (it comes from the `Pin`
            // below, alive for this call) and its value was just dropped in
            // place, so overwriting it without dropping is what we want.
            unsafe { ptr::write(self.0, None) }
        }
    }

    // SAFETY: the value is never moved: it is dropped in place (which the
    // pinning contract allows) and the slot then overwritten.
    let slot: *mut Option<F> = unsafe { body.get_unchecked_mut() };
    // SAFETY: `slot` is valid and unaliased for this call (from the `Pin`).
    if let Some(value) = unsafe { &mut *slot } {
        let value: *mut F = value;
        let _none = WriteNone(slot);
        // SAFETY: `value` is a live, pinned `F` that is dropped exactly once
        // here; `WriteNone` then marks the slot empty, on unwind too.
        unsafe { ptr::drop_in_place(value) };
    }
}

/// Exits the scope when dropped: after the body is dropped, even if the
/// body's destructor panics, so no timer or shield count is left behind.
struct ExitOnDrop<'a>(&'a Arc<ScopeInner>);

impl Drop for ExitOnDrop<'_> {
    fn drop(&mut self) {
        self.0.exit();
    }
}

/// Makes `inner` the innermost scope on this thread until dropped.
///
/// The scope slot is the scheduler's poll slot (cleared at the start of
/// every task poll). Its one invariant, which [`current_inner`] and
/// [`share`] rely on: a non-null value is either a pointer from
/// `Arc::as_ptr` of a scope whose future is being polled or dropped further
/// up this thread's stack (set here, by the guard that future holds), or a
/// tagged lazy cell's (set by `lazy.rs` for the length of its body's poll).
fn enter_scope(inner: &Arc<ScopeInner>) -> PollSlotGuard {
    PollSlotGuard::set(Arc::as_ptr(inner).cast())
}

/// The scope innermost on this thread right now, or null. A lazy scope in
/// the slot is materialised first: whoever asks is about to link to it.
#[inline]
pub(super) fn current_inner() -> *const ScopeInner {
    let ptr = poll_slot();
    if lazy::is_lazy(ptr) {
        // SAFETY: a lazy pointer in the slot was installed by `poll_lazy`
        // for the length of its body poll, which is running further up this
        // thread's stack right now.
        unsafe { lazy::materialize(ptr) }
    } else {
        ptr.cast()
    }
}

/// The scope innermost on this thread right now (materialised if lazy).
pub(crate) fn enclosing_scope() -> Option<Arc<ScopeInner>> {
    share(current_inner())
}

/// One more strong count of a scope found by [`current_inner`].
fn share(ptr: *const ScopeInner) -> Option<Arc<ScopeInner>> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: a non-null pointer from `current_inner` came from
    // `Arc::as_ptr` of a scope whose future is being polled further up this
    // thread's stack (task polls start with the slot null), so that `Arc` is
    // alive for the whole of this call; taking one more strong count is sound.
    unsafe {
        Arc::increment_strong_count(ptr);
        Some(Arc::from_raw(ptr))
    }
}
