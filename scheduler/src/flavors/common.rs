//! What both schedulers keep alike, written once: the settings, the
//! counters, the owned-task list, the unhandled-panic policy, and the steps
//! of shutdown and of `block_on` that do not depend on the flavour.

use std::any::Any;
use std::cell::UnsafeCell;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Waker};

use super::{ThreadRef, enter};
use crate::config::Config;
use crate::context::{Current, CurrentGuard};
use crate::locals::Locals;
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::panic_policy::PanicPolicy;
use crate::park::SharedDriver;
use crate::task::{Header, Id, Notified, OwnedTasks, Placement, Schedule, Task};

/// A flavour's shared state: an `Arc` of it is the [`Schedule`] its tasks
/// hold, with the owned-task bookkeeping written once, here.
pub(crate) trait Flavour: Send + Sync + 'static {
    /// The part both flavours keep alike.
    fn common(&self) -> &Common;
    /// Queues a woken task where `placement` says.
    fn schedule(self: &Arc<Self>, task: Notified, placement: Placement);
    /// A panic no join handle will ever observe tripped the runtime's
    /// policy (`UnhandledPanic::ShutdownRuntime`): make `block_on` see it.
    fn unhandled_panic_tripped(self: &Arc<Self>);
    /// Whether tasks from other threads wait in this scheduler's remote
    /// queue, read without a lock (a hint: it may be stale by the time the
    /// caller acts). A nested eager spawn that sees it is queued instead
    /// (`eager.rs`, step 6). The current-thread scheduler says `false`: its
    /// remote queue sits behind a mutex and its one thread takes it every
    /// `global_queue_interval` ticks, eager polls counted.
    fn remote_backlog(&self) -> bool {
        false
    }
}

impl<T: Flavour> Schedule for Arc<T> {
    fn bind(&self, task: Task) -> Result<(), Task> {
        self.common().owned.bind(task)
    }

    fn release(&self, task: NonNull<Header>) -> Option<Task> {
        self.common().owned.remove(task)
    }

    fn schedule(&self, task: Notified, placement: Placement) {
        Flavour::schedule(self, task, placement);
    }

    fn unhandled_panic(&self, id: Id, payload: &(dyn Any + Send)) {
        if self.common().panic_policy.report(id, payload) {
            self.unhandled_panic_tripped();
        }
    }
}

/// The part of a scheduler's shared state that is the same in both flavours.
pub(crate) struct Common {
    pub(crate) config: Config,
    pub(crate) metrics: Metrics,
    pub(crate) owned: OwnedTasks,
    pub(crate) panic_policy: PanicPolicy,
}

impl Common {
    /// `workers` metric slots.
    pub(crate) fn new(config: Config, workers: usize) -> Common {
        Common {
            panic_policy: PanicPolicy::new(config.unhandled_panic),
            config,
            metrics: Metrics::new(workers),
            owned: OwnedTasks::new(),
        }
    }

    /// A copy of the counters.
    pub(crate) fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot(self.owned.len())
    }

    /// The shutdown tail both flavours share, once their threads have
    /// stopped: inside the scheduler's thread context `on`, close the
    /// owned-task list and drop every task's future, once; then `drain` the
    /// flavour's queues, shutting each queued task down (most are wakes of
    /// tasks just cancelled; a task that woke itself in its eager step and
    /// was never bound is reached only there); then, out of the context,
    /// shut the driver down.
    pub(crate) fn shut_down(&self, on: ThreadRef<'_>, drain: impl FnOnce(), driver: &SharedDriver) {
        enter(on, || {
            for task in self.owned.close_and_take_all() {
                task.shutdown();
            }
            drain();
        });
        driver.shutdown();
    }
}

/// A `block_on` root future with its task-locals: polled with those
/// locals installed (so `task_local!` works in it and it counts as being in
/// `block_on`), like a task but with no id.
pub(crate) struct Root<'a, F> {
    future: Pin<&'a mut F>,
    locals: UnsafeCell<Locals>,
}

impl<'a, F: Future> Root<'a, F> {
    pub(crate) fn new(future: Pin<&'a mut F>) -> Root<'a, F> {
        Root {
            future,
            locals: UnsafeCell::new(Locals::new()),
        }
    }

    pub(crate) fn poll(&mut self, waker: &Waker) -> Poll<F::Output> {
        let _current = CurrentGuard::enter(Current::task(None, &self.locals));
        self.future
            .as_mut()
            .poll(&mut TaskContext::from_waker(waker))
    }

    /// Polls until ready; see [`poll_until_ready`](crate::park::poll_until_ready).
    pub(crate) fn poll_until_ready(
        &mut self,
        waker: &Waker,
        check: impl FnMut(),
        wait: impl FnMut(),
    ) -> F::Output {
        crate::park::poll_until_ready(|| self.poll(waker), check, wait)
    }
}
