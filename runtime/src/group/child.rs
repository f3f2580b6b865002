//! [`Child`]: the future a group child really runs — the user's future
//! inside the child's own scope (entered under the group's), with panics
//! caught, reporting its outcome to the group (or to a pending `start`)
//! exactly once, also when it is dropped unfinished (aborted).

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::error::{ChildError, ChildOutput};
use super::state::GroupInner;
use crate::scope::{CancelScope, Run};
use crate::task;

/// Where a child's outcome goes before it has called `started`.
pub(crate) trait StartReport: Send + Sync {
    /// The child finished: `failure` is its failure, or `None` (it
    /// returned, or was cancelled if `cancelled`). `Ok` if `started` had
    /// not been called (the outcome is the `start` caller's); otherwise the
    /// failure comes back for the group.
    fn child_exited(
        &self,
        failure: Option<ChildError>,
        cancelled: bool,
    ) -> Result<(), Option<ChildError>>;
}

pin_project! {
    /// A group child; see the module doc.
    pub(crate) struct Child<F> {
        #[pin]
        run: Run<CatchUnwind<F>>,
        report: Report,
    }
}

/// Reports the outcome once; a drop before that reports "cancelled".
struct Report {
    group: Arc<GroupInner>,
    child: u64,
    start: Option<Arc<dyn StartReport>>,
    done: bool,
}

impl<F> Child<F> {
    /// `scope` must already be entered under the group's scope.
    pub(crate) fn new(
        group: Arc<GroupInner>,
        child: u64,
        scope: CancelScope,
        future: F,
        start: Option<Arc<dyn StartReport>>,
    ) -> Child<F> {
        Child {
            run: Run::entered(scope, CatchUnwind { future }),
            report: Report {
                group,
                child,
                start,
                done: false,
            },
        }
    }
}

impl<F> Future for Child<F>
where
    F: Future,
    F::Output: ChildOutput,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let outcome = std::task::ready!(this.run.poll(cx));
        let id = task::id();
        let (failure, cancelled) = match outcome {
            Ok(Ok(output)) => (
                output
                    .into_failure()
                    .map(|error| ChildError::Failed { id, error }),
                false,
            ),
            Ok(Err(payload)) => (Some(ChildError::Panicked { id, payload }), false),
            Err(_cancelled) => (None, true),
        };
        this.report.finish(failure, cancelled);
        Poll::Ready(())
    }
}

impl Report {
    fn finish(&mut self, failure: Option<ChildError>, cancelled: bool) {
        self.done = true;
        let failure = match &self.start {
            Some(start) => start.child_exited(failure, cancelled).err().flatten(),
            None => failure,
        };
        self.group.child_done(self.child, failure);
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        if !self.done {
            // Aborted (or dropped at shutdown): cancelled, not a failure.
            self.done = true;
            if let Some(start) = &self.start {
                let _ = start.child_exited(None, true);
            }
            self.group.child_done(self.child, None);
        }
    }
}

pin_project! {
    /// Polls a future, turning a panic into `Err(payload)`.
    pub(crate) struct CatchUnwind<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send + 'static>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.project().future;
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
