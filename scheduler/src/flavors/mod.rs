//! The two scheduler flavours and the one place that dispatches between
//! them: [`Owned`] (what a `Scheduler` owns), [`Shared`] (what a `Handle`
//! refers to), and [`ThreadRef`] (which scheduler, if any, the calling
//! thread is running right now — used to route a wake to a local queue, to
//! decide whether `spawn` may be eager here, and to refuse a nested
//! `block_on`). What both flavours keep alike is in `common.rs`.

pub(crate) mod common;
pub(crate) mod current_thread;
pub(crate) mod multi_thread;

use std::future::Future;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

use self::common::Common;
use crate::config::Config;
use crate::context;
use crate::eager::{self, SpawnMode};
use crate::locals::Locals;
use crate::metrics::Writer;
use crate::park::Driver;
use crate::task::JoinHandle;

/// A scheduler of either flavour, owned.
pub(crate) enum Owned {
    CurrentThread(current_thread::CurrentThread),
    MultiThread(multi_thread::MultiThread),
}

/// A reference to a scheduler of either flavour.
#[derive(Clone)]
pub(crate) enum Shared {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
}

impl Owned {
    pub(crate) fn new(multi_thread: bool, config: Config, driver: Box<dyn Driver>) -> Owned {
        if multi_thread {
            Owned::MultiThread(multi_thread::MultiThread::new(config, driver))
        } else {
            Owned::CurrentThread(current_thread::CurrentThread::new(config, driver))
        }
    }

    /// Starts the worker threads (nothing to do for current-thread).
    pub(crate) fn launch(&self) -> std::io::Result<()> {
        match self {
            Owned::CurrentThread(_) => Ok(()),
            Owned::MultiThread(mt) => mt.launch(),
        }
    }

    pub(crate) fn shared(&self) -> Shared {
        match self {
            Owned::CurrentThread(ct) => Shared::CurrentThread(ct.shared().clone()),
            Owned::MultiThread(mt) => Shared::MultiThread(mt.shared().clone()),
        }
    }

    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        match self {
            Owned::CurrentThread(ct) => ct.shutdown(),
            Owned::MultiThread(mt) => mt.shutdown(timeout),
        }
    }
}

impl Shared {
    pub(crate) fn is_multi_thread(&self) -> bool {
        matches!(self, Shared::MultiThread(_))
    }

    /// What both flavours keep alike: settings, counters, owned tasks.
    pub(crate) fn common(&self) -> &Common {
        match self {
            Shared::CurrentThread(s) => &s.common,
            Shared::MultiThread(s) => &s.common,
        }
    }

    /// The calling thread's metrics writer if it is one of this scheduler's
    /// runtime threads right now (a worker; for current-thread, the thread
    /// driving it in `block_on`): the threads where `spawn` may be eager.
    pub(crate) fn runtime_thread(&self) -> Option<Writer> {
        match self {
            Shared::CurrentThread(s) => s.runtime_thread(),
            Shared::MultiThread(s) => s.runtime_thread(),
        }
    }

    /// Spawns through the one spawn route (`eager.rs`), from any thread.
    #[inline]
    pub(crate) fn spawn<F>(
        &self,
        mode: SpawnMode,
        future: F,
        locals: Locals,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let here = self.runtime_thread();
        match self {
            Shared::CurrentThread(s) => eager::spawn(s, here, mode, future, locals),
            Shared::MultiThread(s) => eager::spawn(s, here, mode, future, locals),
        }
    }

    /// Checks `spawn_local`'s rules: a current-thread scheduler, called
    /// from the thread driving it (which then owns the `!Send` tasks).
    pub(crate) fn claim_local_spawn(&self) {
        match self {
            Shared::CurrentThread(s) => {
                assert!(
                    s.is_current_thread(),
                    "`spawn_local` must be called from inside the current-thread runtime's `block_on`"
                );
                s.claim_local_owner();
            }
            Shared::MultiThread(_) => panic!(
                "`spawn_local` needs a current-thread runtime: a multi-thread one moves tasks between threads"
            ),
        }
    }

    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            Shared::CurrentThread(s) => s.block_on(future),
            Shared::MultiThread(s) => s.block_on(future),
        }
    }

    pub(crate) fn num_workers(&self) -> usize {
        match self {
            Shared::CurrentThread(_) => 1,
            Shared::MultiThread(s) => s.num_workers(),
        }
    }

    /// The scheduler's address: its identity.
    pub(crate) fn id(&self) -> usize {
        match self {
            Shared::CurrentThread(s) => Arc::as_ptr(s).addr(),
            Shared::MultiThread(s) => Arc::as_ptr(s).addr(),
        }
    }
}

/// The scheduler the calling thread is running right now.
#[derive(Clone, Copy)]
pub(crate) enum ThreadRef<'a> {
    /// The thread driving a current-thread scheduler (it holds the core).
    CurrentThread(&'a current_thread::Context),
    /// A worker of a multi-thread scheduler.
    MultiThread(&'a multi_thread::Context),
    /// The thread inside a multi-thread runtime's `block_on`: not a worker
    /// (its wakes go to the injector), but it spawns eagerly, as the thread
    /// inside a current-thread `block_on` does.
    MultiThreadBlockOn(&'a multi_thread::BlockOn),
    /// The thread shutting a multi-thread runtime down, while it drops the
    /// tasks: a spawn from a destructor there is queued (and dropped), never
    /// polled.
    MultiThreadShutdown,
}

impl<'a> ThreadRef<'a> {
    pub(crate) fn current_thread(self) -> Option<&'a current_thread::Context> {
        match self {
            ThreadRef::CurrentThread(cx) => Some(cx),
            _ => None,
        }
    }

    pub(crate) fn multi_thread(self) -> Option<&'a multi_thread::Context> {
        match self {
            ThreadRef::MultiThread(cx) => Some(cx),
            _ => None,
        }
    }

    /// The calling thread's spawner for `shared`, if this thread is one of
    /// its runtime threads.
    #[inline]
    fn spawner_for(self, scheduler_id: usize) -> Option<Spawner<'a>> {
        match self {
            ThreadRef::CurrentThread(cx) if Arc::as_ptr(&cx.shared).addr() == scheduler_id => {
                Some(Spawner(SpawnerKind::CurrentThread(&cx.shared)))
            }
            ThreadRef::MultiThread(cx) if Arc::as_ptr(&cx.shared).addr() == scheduler_id => {
                Some(Spawner(SpawnerKind::MultiThread(
                    &cx.shared,
                    Writer::Owner(cx.index),
                )))
            }
            ThreadRef::MultiThreadBlockOn(cx) if Arc::as_ptr(&cx.shared).addr() == scheduler_id => {
                Some(Spawner(SpawnerKind::MultiThread(
                    &cx.shared,
                    Writer::Remote,
                )))
            }
            _ => None,
        }
    }
}

/// The thread context's copy of a [`ThreadRef`] (pointers, so it is `Copy`
/// and `'static`; valid while [`enter`] runs).
#[derive(Clone, Copy)]
pub(crate) enum OnThread {
    CurrentThread(NonNull<current_thread::Context>),
    MultiThread(NonNull<multi_thread::Context>),
    MultiThreadBlockOn(NonNull<multi_thread::BlockOn>),
    MultiThreadShutdown,
}

/// Runs `f` with `on` as the scheduler this thread runs; restores the
/// previous one afterwards, on unwind too.
pub(crate) fn enter<R>(on: ThreadRef<'_>, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<OnThread>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let prev = self.0;
            context::with(|c| c.scheduler.set(prev));
        }
    }
    let on = match on {
        ThreadRef::CurrentThread(cx) => OnThread::CurrentThread(NonNull::from(cx)),
        ThreadRef::MultiThread(cx) => OnThread::MultiThread(NonNull::from(cx)),
        ThreadRef::MultiThreadBlockOn(cx) => OnThread::MultiThreadBlockOn(NonNull::from(cx)),
        ThreadRef::MultiThreadShutdown => OnThread::MultiThreadShutdown,
    };
    let prev = context::with(|c| c.scheduler.replace(Some(on))).flatten();
    let _reset = Reset(prev);
    f()
}

/// Runs `f` with the scheduler this thread runs, if any.
#[inline]
pub(crate) fn with_thread<R>(f: impl FnOnce(Option<ThreadRef<'_>>) -> R) -> R {
    let on = context::with(|c| c.scheduler.get()).flatten();
    // SAFETY: a pointer in the slot was stored by `enter` from a reference
    // that outlives the closure `enter` runs, and is replaced when that
    // closure ends (unwinding included), so it is live for this call.
    let on = on.map(|on| unsafe {
        match on {
            OnThread::CurrentThread(cx) => ThreadRef::CurrentThread(cx.as_ref()),
            OnThread::MultiThread(cx) => ThreadRef::MultiThread(cx.as_ref()),
            OnThread::MultiThreadBlockOn(cx) => ThreadRef::MultiThreadBlockOn(cx.as_ref()),
            OnThread::MultiThreadShutdown => ThreadRef::MultiThreadShutdown,
        }
    });
    f(on)
}

/// Hands over the tasks this thread held during its eager spawns (the
/// multi-thread `block_on` outbox); called when the outermost one returns.
#[cold]
pub(crate) fn release_held() {
    with_thread(|on| {
        if let Some(ThreadRef::MultiThreadBlockOn(cx)) = on {
            cx.flush();
        }
    });
}

/// Whether this thread is running any keen scheduler.
pub(crate) fn is_inside_runtime() -> bool {
    with_thread(|on| on.is_some())
}

/// The calling thread's way into the scheduler it runs: handed to the
/// closure of [`with_runtime_thread`], valid for that call only.
#[derive(Clone, Copy)]
pub struct Spawner<'a>(SpawnerKind<'a>);

#[derive(Clone, Copy)]
enum SpawnerKind<'a> {
    CurrentThread(&'a Arc<current_thread::Shared>),
    /// With the caller's metrics slot: a worker's own, or the shared one
    /// for the thread inside `block_on`.
    MultiThread(&'a Arc<multi_thread::Shared>, Writer),
}

impl std::fmt::Debug for Spawner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spawner")
    }
}

impl Spawner<'_> {
    /// Spawns on this thread's scheduler through the one spawn route, with
    /// the caller's task-locals.
    #[inline]
    pub fn spawn<F>(self, mode: SpawnMode, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let locals = context::inherited_locals();
        match self.0 {
            SpawnerKind::CurrentThread(s) => {
                eager::spawn(s, Some(Writer::Owner(0)), mode, future, locals)
            }
            SpawnerKind::MultiThread(s, writer) => {
                eager::spawn(s, Some(writer), mode, future, locals)
            }
        }
    }
}

/// Runs `f` with a [`Spawner`] if the calling thread is one of the runtime
/// threads of the scheduler whose [`Handle::scheduler_id`](crate::Handle::scheduler_id)
/// is `scheduler_id`, else with `None`: the hot path of a free `spawn` from
/// inside a task, which clones no handle.
#[inline]
pub fn with_runtime_thread<R>(scheduler_id: usize, f: impl FnOnce(Option<Spawner<'_>>) -> R) -> R {
    with_thread(|on| f(on.and_then(|on| on.spawner_for(scheduler_id))))
}
