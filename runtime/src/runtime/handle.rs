//! [`Handle`]: a cloneable, thread-safe reference to a runtime, with the
//! spawn entry points every other API builds on.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_task::{FutureObj, LocalFutureObj, LocalSpawn, Spawn, SpawnError};
use keen_scheduler::context::inherited_locals;
use keen_scheduler::task::{self as raw_task, JoinHandle};
use keen_scheduler::{Flavor, Handle as SchedulerHandle, SpawnMode};

use crate::blocking::BlockingSpawner;
use crate::context::{self, EnterGuard};
use crate::io::IoHandle;
use crate::runtime::RuntimeMetrics;
use crate::time::driver::TimeShared;

/// A reference to a runtime, usable from any thread.
///
/// ```
/// let rt = keen::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let joined = std::thread::spawn(move || {
///     // Not a runtime thread: the task is queued, not polled here.
///     let task = handle.spawn(async { 6 * 7 });
///     handle.block_on(task).unwrap()
/// })
/// .join()
/// .unwrap();
/// assert_eq!(joined, 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<HandleInner>,
}

pub(crate) struct HandleInner {
    pub(crate) scheduler: SchedulerHandle,
    pub(crate) blocking: BlockingSpawner,
    pub(crate) time: Arc<TimeShared>,
    pub(crate) io: Arc<IoHandle>,
}

/// Message of the panic raised by spawning outside any runtime.
const NO_RUNTIME: &str = "there is no keen runtime on this thread: call this from inside \
     `Runtime::block_on` or a task, or spawn through a `Handle` (`rt.handle().spawn(..)`)";

/// Error of [`Handle::try_current`]: this thread is not in a keen runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(NO_RUNTIME)
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the runtime this thread is in.
    ///
    /// # Panics
    /// Outside a runtime, with a message naming the fix; see
    /// [`try_current`](Self::try_current) for the fallible form.
    ///
    /// ```
    /// let rt = keen::Runtime::new().unwrap();
    /// let handle = rt.block_on(async { keen::Handle::current() });
    /// assert_eq!(handle.flavor(), rt.handle().flavor());
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        context::current().unwrap_or_else(|| panic!("{NO_RUNTIME}"))
    }

    /// The handle of the runtime this thread is in, or an error.
    ///
    /// ```
    /// assert!(keen::Handle::try_current().is_err()); // no runtime here
    /// ```
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::current().ok_or(TryCurrentError(()))
    }

    /// Makes this runtime current on this thread until the guard drops, so
    /// free functions such as [`crate::spawn`] find it.
    ///
    /// ```
    /// let rt = keen::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// std::thread::spawn(move || {
    ///     let _guard = handle.enter();
    ///     assert!(keen::Handle::try_current().is_ok());
    /// })
    /// .join()
    /// .unwrap();
    /// ```
    pub fn enter(&self) -> EnterGuard {
        context::enter(self.clone())
    }

    /// Spawns a task. On one of this runtime's workers (for current-thread,
    /// its `block_on`) the task is polled here and now until its first
    /// `Pending` (eager spawn; see `docs/eager.md`); elsewhere it is queued.
    /// The child starts with a copy of the caller's task-locals.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner
            .scheduler
            .spawn(SpawnMode::Eager, future, inherited_locals())
    }

    /// Spawns a task without polling it here: it is queued, as in tokio.
    /// Use it where the eager first step would run at the wrong moment, e.g.
    /// while holding a lock or a `RefCell` borrow the child also takes.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
    /// let state = Arc::new(Mutex::new(Vec::new()));
    /// rt.block_on(async {
    ///     let guard = state.lock().unwrap();
    ///     let s = state.clone();
    ///     // `spawn` would run the child's lock() here and deadlock.
    ///     let task = keen::Handle::current().spawn_lazy(async move { s.lock().unwrap().push(1) });
    ///     drop(guard);
    ///     task.await.unwrap();
    /// });
    /// assert_eq!(*state.lock().unwrap(), [1]);
    /// ```
    pub fn spawn_lazy<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner
            .scheduler
            .spawn(SpawnMode::Lazy, future, inherited_locals())
    }

    /// Runs `f` on the runtime's blocking pool, with the caller's
    /// task-locals. The handle yields its result (or its panic).
    ///
    /// ```
    /// let rt = keen::Runtime::new().unwrap();
    /// let err = rt.block_on(rt.handle().spawn_blocking(|| panic!("caught"))).unwrap_err();
    /// assert!(err.is_panic());
    /// ```
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (task, handle) = raw_task::closure(f, inherited_locals());
        // Counted busy from now until the closure returns (or the job is
        // dropped unrun), so a paused clock does not auto-advance meanwhile.
        let busy = self.inner.time.activity().busy_guard();
        // If the pool is shut down the job (and with it the task) is
        // dropped, which cancels the task: its handle reports that.
        let _ = self.inner.blocking.spawn(Box::new(move || {
            // A `block_on` inside the closure reuses this count.
            let _mark = busy.mark_thread();
            task.run();
        }));
        handle
    }

    /// Runs `future` to completion on this thread. On a current-thread
    /// runtime this thread drives the tasks meanwhile.
    ///
    /// ```
    /// let rt = keen::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// // Inside a blocking closure, block_on is allowed.
    /// let out = rt.block_on(rt.spawn_blocking(move || handle.block_on(async { 7 })));
    /// assert_eq!(out.unwrap(), 7);
    /// ```
    ///
    /// # Panics
    /// On a runtime thread (a worker, or inside another `block_on`). Inside
    /// a `spawn_blocking` closure it works.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = self.enter();
        self.inner.scheduler.block_on(future)
    }

    /// The runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics::new(
            self.inner.scheduler.metrics(),
            self.inner.blocking.num_threads(),
            self.inner.time.len(),
            self.inner.scheduler.num_workers(),
        )
    }

    /// Which scheduler flavour the runtime uses.
    pub fn flavor(&self) -> Flavor {
        self.inner.scheduler.flavor()
    }

    pub(crate) fn scheduler(&self) -> &SchedulerHandle {
        &self.inner.scheduler
    }

    /// The runtime's timers.
    pub(crate) fn time(&self) -> &Arc<TimeShared> {
        &self.inner.time
    }

    /// The runtime's I/O reactor.
    pub(crate) fn io(&self) -> &Arc<IoHandle> {
        &self.inner.io
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("flavor", &self.flavor())
            .finish()
    }
}

impl Spawn for Handle {
    fn spawn_obj(&self, future: FutureObj<'static, ()>) -> Result<(), SpawnError> {
        drop(self.spawn(future));
        Ok(())
    }
}

impl LocalSpawn for Handle {
    /// Spawns a `!Send` future; fails unless this is a current-thread
    /// runtime driven by the calling thread.
    fn spawn_local_obj(&self, future: LocalFutureObj<'static, ()>) -> Result<(), SpawnError> {
        if self.flavor() != Flavor::CurrentThread || !self.inner.scheduler.is_runtime_thread() {
            return Err(SpawnError::shutdown());
        }
        drop(self.inner.scheduler.spawn_local(future, inherited_locals()));
        Ok(())
    }
}
