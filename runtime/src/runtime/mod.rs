//! [`Runtime`]: owns a scheduler and a blocking pool; [`Builder`] makes
//! one; [`Handle`] refers to one from anywhere.

mod builder;
mod handle;
mod metrics;

use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

pub use builder::Builder;
pub use handle::{Handle, TryCurrentError};
pub use keen_scheduler::task::JoinHandle;
pub use keen_scheduler::{Flavor, UnhandledPanic};
pub use metrics::RuntimeMetrics;

use crate::blocking::BlockingPool;
use crate::context::EnterGuard;
use keen_scheduler::Scheduler;

/// A keen runtime: a scheduler (current-thread or work-stealing), and one
/// blocking pool shared by everything that runs on it.
///
/// Dropping the runtime shuts it down: every task's future is dropped
/// exactly once, on the dropping thread with the runtime current, and
/// pending `JoinHandle`s yield a cancelled error. Blocking closures already
/// running are waited for (use [`shutdown_timeout`](Self::shutdown_timeout)
/// to bound that).
///
/// ```
/// let rt = keen::Runtime::new().unwrap();
/// let out = rt.block_on(async {
///     // From `block_on` (on either flavour) or a worker: polled in place,
///     // and ready in its first poll, so finished before `spawn` returned.
///     let child = keen::spawn(async { "eager" });
///     assert!(child.is_finished());
///     child.await.unwrap()
/// });
/// assert_eq!(out, "eager");
/// ```
pub struct Runtime {
    scheduler: Scheduler,
    blocking: Option<BlockingPool>,
    handle: Handle,
}

impl Runtime {
    /// A multi-thread runtime with one worker per core.
    ///
    /// ```
    /// let rt = keen::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    pub(crate) fn from_parts(
        scheduler: Scheduler,
        blocking: BlockingPool,
        handle: Handle,
    ) -> Runtime {
        Runtime {
            scheduler,
            blocking: Some(blocking),
            handle,
        }
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs `future` to completion on this thread, with this runtime
    /// current. On a current-thread runtime this thread is the worker, so
    /// tasks spawned here are eager; on a multi-thread runtime they are
    /// queued to the workers (spawns made inside tasks are eager).
    ///
    /// # Panics
    /// On a runtime thread (a worker, or inside another `block_on`).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = self.enter();
        self.scheduler.block_on(future)
    }

    /// Spawns a task; see [`Handle::spawn`].
    ///
    /// ```
    /// let rt = keen::Runtime::new().unwrap();
    /// let task = rt.spawn(async { "from outside: queued to a worker" });
    /// assert!(rt.block_on(task).is_ok());
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on the blocking pool; see [`Handle::spawn_blocking`].
    ///
    /// ```
    /// let rt = keen::Runtime::new().unwrap();
    /// let io = rt.spawn_blocking(|| std::fs::metadata(".").is_ok());
    /// assert!(rt.block_on(io).unwrap());
    /// ```
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// Makes this runtime current on this thread until the guard drops.
    ///
    /// ```
    /// let rt = keen::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let task = keen::spawn(async { 3 }); // finds the entered runtime
    /// assert_eq!(rt.block_on(task).unwrap(), 3);
    /// ```
    pub fn enter(&self) -> EnterGuard {
        self.handle.enter()
    }

    /// The runtime's counters.
    ///
    /// ```
    /// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async { keen::spawn(async {}).await.unwrap() });
    /// let m = rt.metrics();
    /// assert_eq!((m.spawned, m.eager_completed, m.polls), (1, 1, 0));
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// Shuts down, waiting at most `timeout` for worker threads and running
    /// blocking closures; whatever still runs after that is left behind.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = keen::Runtime::new().unwrap();
    /// let pending = rt.spawn(std::future::pending::<()>());
    /// rt.shutdown_timeout(Duration::from_secs(1));
    /// // The task's future was dropped; its handle reports cancellation.
    /// assert!(keen::block_on(pending).unwrap_err().is_cancelled());
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts down without waiting for running blocking closures.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        let _enter = self.enter();
        self.scheduler.shutdown(timeout);
        if let Some(mut blocking) = self.blocking.take() {
            blocking.shutdown(timeout);
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &self.handle.flavor())
            .finish()
    }
}
