//! [`Scheduler`] (owns one current-thread or multi-thread scheduler) and
//! [`Handle`] (a cheap, cloneable, thread-safe reference to it), with the
//! spawn entry points and the eager-or-lazy decision (DESIGN.md step 4):
//! eager only when the runtime enables it, the caller is one of this
//! runtime's workers (for current-thread: the thread inside its `block_on`,
//! its only worker), and the eager nesting depth on this thread is below the
//! limit; `spawn_lazy` never is.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::context::EagerDepthGuard;
use crate::current_thread::{self, CurrentThread};
use crate::locals::Locals;
use crate::metrics::{Metrics, MetricsSnapshot, Writer};
use crate::multi_thread::{self, MultiThread};
use crate::park::Driver;
use crate::scheduler_context;
use crate::task::{self, JoinHandle, Schedule};

/// The two scheduler flavours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Every task runs on the thread inside `block_on`.
    CurrentThread,
    /// Tasks run on a pool of work-stealing worker threads.
    MultiThread,
}

enum Kind {
    CurrentThread(CurrentThread),
    MultiThread(MultiThread),
}

/// Owns a scheduler; dropping it shuts the scheduler down.
pub struct Scheduler {
    kind: Kind,
}

#[derive(Clone)]
enum HandleKind {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
}

/// A reference to a scheduler, usable from any thread.
#[derive(Clone)]
pub struct Handle {
    kind: HandleKind,
}

/// Message of the panic raised by a nested `block_on`.
pub const NESTED_BLOCK_ON: &str = "cannot call `block_on` from a keen runtime thread (a worker, \
     or inside another `block_on`): it would block the thread that drives the tasks. \
     Use `.await` instead, or move the blocking call into `spawn_blocking`";

impl Scheduler {
    /// A current-thread scheduler parking on `driver`.
    pub fn new_current_thread(config: Config, driver: Box<dyn Driver>) -> Scheduler {
        Scheduler {
            kind: Kind::CurrentThread(CurrentThread::new(config, driver)),
        }
    }

    /// A multi-thread scheduler; its workers start with [`launch`](Self::launch).
    pub fn new_multi_thread(config: Config, driver: Box<dyn Driver>) -> Scheduler {
        Scheduler {
            kind: Kind::MultiThread(MultiThread::new(config, driver)),
        }
    }

    /// Starts the worker threads (nothing to do for current-thread).
    pub fn launch(&self) -> std::io::Result<()> {
        match &self.kind {
            Kind::CurrentThread(_) => Ok(()),
            Kind::MultiThread(mt) => mt.launch(),
        }
    }

    /// A handle to this scheduler.
    pub fn handle(&self) -> Handle {
        Handle {
            kind: match &self.kind {
                Kind::CurrentThread(ct) => HandleKind::CurrentThread(ct.shared().clone()),
                Kind::MultiThread(mt) => HandleKind::MultiThread(mt.shared().clone()),
            },
        }
    }

    /// Runs `future` to completion on this thread.
    ///
    /// # Panics
    /// On a thread that already runs a keen scheduler (see [`NESTED_BLOCK_ON`]).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if scheduler_context::is_inside_runtime() {
            panic!("{NESTED_BLOCK_ON}");
        }
        match &self.kind {
            Kind::CurrentThread(ct) => ct.block_on(future),
            Kind::MultiThread(mt) => mt.block_on(future),
        }
    }

    /// Shuts down: stops workers (waiting up to `timeout` for them), drops
    /// every task's future once, then shuts the driver down. Idempotent.
    pub fn shutdown(&self, timeout: Option<Duration>) {
        match &self.kind {
            Kind::CurrentThread(ct) => ct.shutdown(),
            Kind::MultiThread(mt) => mt.shutdown(timeout),
        }
    }
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("flavor", &self.handle().flavor())
            .finish()
    }
}

impl Handle {
    /// Which flavour of scheduler this is.
    pub fn flavor(&self) -> Flavor {
        match self.kind {
            HandleKind::CurrentThread(_) => Flavor::CurrentThread,
            HandleKind::MultiThread(_) => Flavor::MultiThread,
        }
    }

    fn config(&self) -> &Config {
        match &self.kind {
            HandleKind::CurrentThread(s) => &s.config,
            HandleKind::MultiThread(s) => &s.config,
        }
    }

    /// Whether the calling thread is one of this scheduler's workers right
    /// now (for current-thread: the thread driving it in `block_on`).
    pub fn is_runtime_thread(&self) -> bool {
        self.runtime_thread().is_some()
    }

    fn runtime_thread(&self) -> Option<Writer> {
        match &self.kind {
            HandleKind::CurrentThread(s) => s.runtime_thread(),
            HandleKind::MultiThread(s) => s.runtime_thread(),
        }
    }

    /// Spawns `future` with `locals` as its task-locals: eagerly when allowed
    /// here (see the module docs), else queued.
    pub fn spawn<F>(&self, future: F, locals: Locals) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_inner(future, locals, true)
    }

    /// Spawns `future` without polling it here: it is queued and first
    /// polled by the scheduler, as in tokio.
    pub fn spawn_lazy<F>(&self, future: F, locals: Locals) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_inner(future, locals, false)
    }

    /// `may_be_eager`: `spawn` (eager where allowed) or `spawn_lazy`.
    fn spawn_inner<F>(&self, future: F, locals: Locals, may_be_eager: bool) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let thread = self.runtime_thread();
        let eager = may_be_eager && self.config().eager && thread.is_some();
        match &self.kind {
            HandleKind::CurrentThread(s) => {
                spawn_with(s, &s.metrics, &s.config, thread, eager, future, locals)
            }
            HandleKind::MultiThread(s) => {
                spawn_with(s, &s.metrics, &s.config, thread, eager, future, locals)
            }
        }
    }

    /// Spawns a `!Send` future on a current-thread scheduler, from the
    /// thread that drives it. Eager like [`spawn`](Self::spawn).
    ///
    /// # Panics
    /// On a multi-thread scheduler, or off the driving thread.
    pub fn spawn_local<F>(&self, future: F, locals: Locals) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        match &self.kind {
            HandleKind::CurrentThread(s) => {
                assert!(
                    s.is_current_thread(),
                    "`spawn_local` must be called from inside the current-thread runtime's `block_on`"
                );
                s.claim_local_owner();
                spawn_with(
                    s,
                    &s.metrics,
                    &s.config,
                    s.runtime_thread(),
                    s.config.eager,
                    future,
                    locals,
                )
            }
            HandleKind::MultiThread(_) => {
                panic!(
                    "`spawn_local` needs a current-thread runtime: a multi-thread one moves tasks between threads"
                )
            }
        }
    }

    /// Runs `future` to completion on this thread: drives the tasks of a
    /// current-thread scheduler (waiting for the core if another thread
    /// drives it), or parks while a multi-thread scheduler's workers run.
    ///
    /// # Panics
    /// On a thread that already runs a keen scheduler (see [`NESTED_BLOCK_ON`]).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if scheduler_context::is_inside_runtime() {
            panic!("{NESTED_BLOCK_ON}");
        }
        match &self.kind {
            HandleKind::CurrentThread(s) => s.block_on(future),
            HandleKind::MultiThread(s) => s.block_on(future),
        }
    }

    /// A copy of the scheduler's counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        match &self.kind {
            HandleKind::CurrentThread(s) => s.metrics(),
            HandleKind::MultiThread(s) => s.metrics(),
        }
    }

    /// Number of worker threads (1 for current-thread).
    pub fn num_workers(&self) -> usize {
        match &self.kind {
            HandleKind::CurrentThread(_) => 1,
            HandleKind::MultiThread(s) => s.num_workers(),
        }
    }

    /// An identity of the scheduler (its address), for
    /// [`spawn_on_runtime_thread`].
    pub fn scheduler_id(&self) -> usize {
        match &self.kind {
            HandleKind::CurrentThread(s) => Arc::as_ptr(s) as *const () as usize,
            HandleKind::MultiThread(s) => Arc::as_ptr(s) as *const () as usize,
        }
    }

    /// Whether both handles refer to the same scheduler.
    pub fn ptr_eq(&self, other: &Handle) -> bool {
        match (&self.kind, &other.kind) {
            (HandleKind::CurrentThread(a), HandleKind::CurrentThread(b)) => Arc::ptr_eq(a, b),
            (HandleKind::MultiThread(a), HandleKind::MultiThread(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("flavor", &self.flavor())
            .finish()
    }
}

/// `thread`: the caller's metrics writer if it is a runtime thread of this
/// scheduler; `eager`: whether this call may poll in place. Meant to be
/// inlined into the spawner, so the handle of a task that finished eagerly
/// reaches it in registers rather than through memory.
#[inline]
fn spawn_with<F, S>(
    scheduler: &S,
    metrics: &Metrics,
    config: &Config,
    thread: Option<Writer>,
    eager: bool,
    future: F,
    locals: Locals,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    S: Schedule,
{
    let writer = thread.unwrap_or(Writer::Remote);
    if eager {
        if let Some(_depth) = EagerDepthGuard::try_enter(config.eager_depth) {
            let (handle, completed) = task::spawn_eager(future, scheduler, locals);
            if completed {
                metrics.inc(writer, |s| &s.eager_completed);
            } else {
                metrics.inc(writer, |s| &s.promoted);
            }
            return handle;
        }
    }
    metrics.inc(writer, |s| &s.spawned_lazy);
    task::spawn_lazy(future, scheduler, locals)
}

/// Spawns on the scheduler whose [`Handle::scheduler_id`] is `scheduler_id`
/// if the calling thread is one of its runtime threads, without cloning any
/// handle: the hot path of a free `spawn` from inside a task. The child
/// inherits the caller's task-locals. Takes the future out of `future` only
/// when it spawns; `None` (and `future` left as it was) otherwise. (An
/// `Option` in and out rather than a `Result` giving the future back: the
/// handle then comes back in registers.)
pub fn spawn_on_runtime_thread<F>(
    scheduler_id: usize,
    future: &mut Option<F>,
) -> Option<JoinHandle<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    use crate::context::inherited_locals;
    use crate::scheduler_context::SchedulerContext;
    scheduler_context::with(move |ctx| match ctx {
        Some(SchedulerContext::CurrentThread(cx))
            if Arc::as_ptr(&cx.shared) as *const () as usize == scheduler_id =>
        {
            // Installed only on the thread that holds the core.
            let s = &cx.shared;
            let locals = inherited_locals();
            let writer = Some(Writer::Owner(0));
            let future = future.take()?;
            Some(spawn_with(
                s,
                &s.metrics,
                &s.config,
                writer,
                s.config.eager,
                future,
                locals,
            ))
        }
        Some(SchedulerContext::MultiThread(cx))
            if Arc::as_ptr(&cx.shared) as *const () as usize == scheduler_id =>
        {
            let s = &cx.shared;
            let locals = inherited_locals();
            let writer = Some(Writer::Owner(cx.index));
            let future = future.take()?;
            Some(spawn_with(
                s,
                &s.metrics,
                &s.config,
                writer,
                s.config.eager,
                future,
                locals,
            ))
        }
        _ => None,
    })
}
