//! `JoinHandle` and `AbortHandle`: the spawner's view of a task.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Id, JoinError, RawTask};

/// An owned permission to await a task's output.
///
/// Awaiting yields `Ok(output)`, or a [`JoinError`] if the task was cancelled
/// or panicked. Dropping the handle *detaches* the task: it keeps running.
/// A task that finished during its eager first poll is already finished when
/// `spawn` returns: [`is_finished`](Self::is_finished) is `true` at once.
pub struct JoinHandle<T> {
    raw: RawTask,
    _output: PhantomData<T>,
}

// SAFETY: the handle moves the output (`T: Send`) to whichever thread awaits
// it; everything else it touches is synchronised by the task state.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only reads the state and requests aborts (atomic).
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// Takes over the join-handle reference and interest of `raw`.
    pub(crate) fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    /// Requests cancellation. A task that already finished is unaffected; a
    /// pending one has its future dropped at the next opportunity (at once
    /// if idle) and its handle then yields a cancelled [`JoinError`].
    ///
    /// ```
    /// # use keen_scheduler::{Config, Scheduler, locals::Locals, park::ParkThread};
    /// # let rt = Scheduler::new_current_thread(Config::default(), Box::new(ParkThread::new()));
    /// # rt.launch().unwrap();
    /// let task = rt.handle().spawn(std::future::pending::<()>(), Locals::new());
    /// task.abort();
    /// assert!(rt.block_on(task).unwrap_err().is_cancelled());
    /// ```
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// Whether the task has finished (completed, panicked or been cancelled).
    ///
    /// ```
    /// # use keen_scheduler::{Config, Scheduler, locals::Locals, park::ParkThread};
    /// # let rt = Scheduler::new_current_thread(Config::default(), Box::new(ParkThread::new()));
    /// # rt.launch().unwrap();
    /// let task = rt.handle().spawn(async { 1 }, Locals::new());
    /// assert!(!task.is_finished()); // spawned from outside: queued
    /// let watch = task.abort_handle();
    /// assert_eq!(rt.block_on(task).unwrap(), 1);
    /// assert!(watch.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// A handle that can abort the task but not await it.
    ///
    /// ```
    /// # use keen_scheduler::{Config, Scheduler, locals::Locals, park::ParkThread};
    /// # let rt = Scheduler::new_current_thread(Config::default(), Box::new(ParkThread::new()));
    /// # rt.launch().unwrap();
    /// let task = rt.handle().spawn(std::future::pending::<()>(), Locals::new());
    /// let abort = task.abort_handle();
    /// assert_eq!(abort.id(), task.id());
    /// abort.abort();
    /// assert!(rt.block_on(task).unwrap_err().is_cancelled());
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        self.raw.header().state.ref_inc();
        AbortHandle { raw: self.raw }
    }

    /// The task's id.
    ///
    /// ```
    /// # use keen_scheduler::{Config, Scheduler, locals::Locals, park::ParkThread};
    /// # let rt = Scheduler::new_current_thread(Config::default(), Box::new(ParkThread::new()));
    /// # rt.launch().unwrap();
    /// let a = rt.handle().spawn(async {}, Locals::new());
    /// let b = rt.handle().spawn(async {}, Locals::new());
    /// assert_ne!(a.id(), b.id());
    /// ```
    pub fn id(&self) -> Id {
        self.raw.header().id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        let header = self.raw.header();
        // SAFETY: we are the task's join handle and `out` has the type the
        // task's output slot was created with (`T` = `F::Output`).
        unsafe {
            (header.vtable.try_read_output)(self.raw.ptr, &mut out as *mut _ as *mut (), cx.waker())
        };
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: we are the join handle; this gives up its reference.
        unsafe { (self.raw.header().vtable.drop_join_handle)(self.raw.ptr) }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Aborts a task without owning its output.
pub struct AbortHandle {
    raw: RawTask,
}

// SAFETY: an abort handle only touches the atomic state and, when the task
// must be queued for cancellation, its thread-safe scheduler.
unsafe impl Send for AbortHandle {}
// SAFETY: as above.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// Requests cancellation; see [`JoinHandle::abort`].
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.raw.header().id
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        self.raw.header().state.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}
