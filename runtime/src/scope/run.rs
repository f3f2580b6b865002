//! [`Run`]: the future of [`CancelScope::run`], where cancellation is
//! delivered.
//!
//! Each poll makes the scope the innermost one on this thread while its body
//! is polled (so scopes entered inside link to it), polls the body first, and
//! only when the body is pending looks at cancellation. A cancelled scope
//! catches — drops its body and returns `Err(Cancelled)` — unless a shielded
//! scope inside is still pending, or its parent is cancelled too and is
//! polling it right now (then the parent, further out, catches).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use keen_scheduler::context::{ScopeGuard, current_scope};
use pin_project_lite::pin_project;

use super::inner::ScopeInner;
use super::{CancelScope, Cancelled};

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
                let inner = &this.scope.inner;
                let _exit = ExitOnDrop(inner);
                let _scope = enter_scope(inner);
                let mut body = this.body;
                body.set(None);
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

    /// The scope this body runs in.
    pub fn scope(&self) -> &CancelScope {
        &self.scope
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
fn enter_scope(inner: &Arc<ScopeInner>) -> ScopeGuard {
    // SAFETY: the pointer comes from an `Arc<ScopeInner>` owned by the `Run`
    // being polled or dropped, which outlives the guard (a local of this
    // poll); `current_scope` readers below only ever see such pointers.
    unsafe { ScopeGuard::enter(Arc::as_ptr(inner).cast()) }
}

/// The scope innermost on this thread right now, if any.
fn enclosing_scope() -> Option<Arc<ScopeInner>> {
    let ptr = current_scope().cast::<ScopeInner>();
    if ptr.is_null() {
        return None;
    }
    // SAFETY: a non-null scope pointer was installed by `enter_scope` of a
    // `Run` further up this thread's poll stack (task polls start with it
    // null), so it came from `Arc::as_ptr` and that `Arc` is alive for the
    // whole of this call; taking one more strong count is sound.
    unsafe {
        Arc::increment_strong_count(ptr);
        Some(Arc::from_raw(ptr))
    }
}

impl<F: Future> Future for Run<F> {
    type Output = Result<F::Output, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = &this.scope.inner;
        let outer = current_scope();
        if !*this.entered {
            inner.enter(enclosing_scope());
            *this.entered = true;
        }
        let mut body = this.body;
        let polled = {
            let _scope = enter_scope(inner);
            let fut = body
                .as_mut()
                .as_pin_mut()
                .expect("CancelScope::run future polled after it completed");
            fut.poll(cx)
        };
        if let Poll::Ready(out) = polled {
            let _exit = ExitOnDrop(inner);
            body.set(None);
            return Poll::Ready(Ok(out));
        }
        // Make the waker visible to cancellers (here and in the parent's
        // child list) *before* reading the cancellation state: a `cancel()`
        // on another thread either is seen below or finds the waker.
        inner.arm(cx.waker());
        let Some(reason) = inner.effective_reason() else {
            return Poll::Pending;
        };
        // The parent catches only if its cancellation reaches this body (we
        // are not shielded) and it is polling us right now.
        let parent_catches = !inner.is_shielded()
            && inner.parent().is_some_and(|parent| {
                std::ptr::eq(std::ptr::from_ref(parent).cast(), outer) && parent.cancelled_or_due()
            });
        if inner.shields_inside() > 0 || parent_catches {
            return Poll::Pending;
        }
        {
            let _exit = ExitOnDrop(inner);
            let _scope = enter_scope(inner);
            body.set(None);
        }
        inner.set_caught();
        Poll::Ready(Err(Cancelled::new(reason, this.scope.clone())))
    }
}
