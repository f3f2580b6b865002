//! [`Child`]: the future a group child really runs — the user's future
//! inside the child's own scope (entered under the group's), with panics
//! caught (in its polls, and in its destructor when the scope drops it on
//! cancellation), reporting its outcome to the group (or to a pending
//! `start`) exactly once, also when it is dropped unfinished (aborted).

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
    /// The child's task is about to poll (or drop) the child's future;
    /// `false` once `started` was called or the outcome is settled (the
    /// child needs no more calls but `child_exited`).
    fn enter_child(&self) -> bool;

    /// That poll returned `Pending`: if `Started` was dropped unsent in it,
    /// the child never signalled.
    fn leave_child_pending(&self);

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
        run: Run<F>,
        report: Report,
    }

    impl<F> PinnedDrop for Child<F> {
        fn drop(this: Pin<&mut Self>) {
            // The future is dropped next: a `Started` dropped in there is
            // the child being cancelled, which `Report::drop` then reports.
            if let Some(start) = &this.report.start {
                start.enter_child();
            }
        }
    }
}

/// Reports the outcome once; a drop before that reports "cancelled".
struct Report {
    group: Arc<GroupInner>,
    child: u64,
    start: Option<Arc<dyn StartReport>>,
    /// The child task's id, known from its first poll.
    id: Option<task::Id>,
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
            run: Run::entered(scope, future),
            report: Report {
                group,
                child,
                start,
                id: None,
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
        let id = *this.report.id.get_or_insert_with(task::id);
        // Until it has signalled, a `start` child tells its slot when its
        // polls begin and end (see `start.rs`); after that it needs no more.
        let waiting_start = match &this.report.start {
            Some(start) => start.enter_child(),
            None => false,
        };
        let mut run = this.run;
        // A panic in the body's poll, or in its destructor when the scope
        // drops it on cancellation, is this child's failure.
        let outcome = match catch_unwind(AssertUnwindSafe(|| run.as_mut().poll(cx))) {
            Ok(Poll::Pending) => {
                if let Some(start) = this.report.start.as_ref().filter(|_| waiting_start) {
                    start.leave_child_pending();
                }
                return Poll::Pending;
            }
            Ok(Poll::Ready(outcome)) => Ok(outcome),
            Err(payload) => Err(payload),
        };
        let (failure, cancelled) = match outcome {
            Ok(Ok(output)) => (
                output
                    .into_failure()
                    .map(|error| ChildError::Failed { id, error }),
                false,
            ),
            Ok(Err(_cancelled)) => (None, true),
            Err(payload) => (Some(ChildError::Panicked { id, payload }), false),
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
            self.done = true;
            // Aborted or cancelled (or dropped at shutdown): not a failure
            // — unless the child's destructor is panicking right now (its
            // future is dropped before this report): that is a failure, and
            // its payload is on its way to the task's unhandled-panic
            // policy, so the group gets a note of it.
            let id = self.id.or_else(task::try_id);
            let failure = id.filter(|_| std::thread::panicking()).map(|id| {
                let note = "a task group child panicked while being dropped (cancelled)";
                ChildError::Panicked {
                    id,
                    payload: Box::new(note),
                }
            });
            let failure = match &self.start {
                Some(start) => start.child_exited(failure, true).err().flatten(),
                None => failure,
            };
            self.group.child_done(self.child, failure);
        }
    }
}
