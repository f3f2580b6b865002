//! The current-thread scheduler: every task runs on the thread that calls
//! `block_on`. A local FIFO queue serves wakes from that thread; a locked
//! remote queue serves `Handle::spawn` and wakes from any other thread, which
//! also unpark the driver. Only one thread drives the scheduler at a time
//! (it holds the `Core`); a concurrent `block_on` waits for the core while
//! polling its own future.

use crate::task::Placement;
use std::any::Any;
use std::cell::{RefCell, UnsafeCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::thread::{self, ThreadId};

use parking_lot::Mutex;

use crate::config::Config;
use crate::context::{Current, CurrentGuard, advance_tick, crossed};
use crate::locals::Locals;
use crate::metrics::{Metrics, MetricsSnapshot, Writer};
use crate::panic_policy::PanicPolicy;
use crate::park::{Driver, Parker, ParkerWaker, SharedDriver};
use crate::scheduler_context::{self, SchedulerContext};
use crate::task::{self, Id, Notified, OwnedTasks, Schedule, Task};

/// State shared by the runtime, its handles and its tasks.
pub(crate) struct Shared {
    remote: Mutex<Remote>,
    owned: OwnedTasks,
    parker: Parker,
    pub(crate) config: Config,
    pub(crate) metrics: Metrics,
    /// The `block_on` future was woken.
    woken: AtomicBool,
    panic_policy: PanicPolicy,
    /// The thread that owns `!Send` tasks spawned with `spawn_local`, once any.
    local_owner: Mutex<Option<ThreadId>>,
    /// The core, while no thread drives the scheduler.
    core: Mutex<Option<Box<Core>>>,
    /// Threads in `block_on` waiting for the core (another thread drives);
    /// unparked when it comes back.
    waiters: Mutex<Vec<Parker>>,
    /// Set once by `shutdown`.
    shut_down: AtomicBool,
}

struct Remote {
    tasks: VecDeque<Notified>,
    closed: bool,
}

/// What the driving thread owns.
struct Core {
    local: VecDeque<Notified>,
    tick: u32,
}

/// This scheduler's entry in the thread's scheduler context.
pub(crate) struct Context {
    pub(crate) shared: Arc<Shared>,
    core: RefCell<Option<Box<Core>>>,
}

/// A current-thread scheduler.
pub(crate) struct CurrentThread {
    shared: Arc<Shared>,
}

impl CurrentThread {
    pub(crate) fn new(config: Config, driver: Box<dyn Driver>) -> CurrentThread {
        let parker = Parker::new(SharedDriver::new(driver));
        CurrentThread {
            shared: Arc::new(Shared {
                remote: Mutex::new(Remote {
                    tasks: VecDeque::new(),
                    closed: false,
                }),
                owned: OwnedTasks::new(),
                parker,
                panic_policy: PanicPolicy::new(config.unhandled_panic),
                config,
                metrics: Metrics::new(1),
                woken: AtomicBool::new(false),
                local_owner: Mutex::new(None),
                core: Mutex::new(Some(Box::new(Core {
                    local: VecDeque::new(),
                    tick: 0,
                }))),
                waiters: Mutex::new(Vec::new()),
                shut_down: AtomicBool::new(false),
            }),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Runs `future` to completion on this thread, driving every task.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.shared.block_on(future)
    }

    /// Drops every task's future (on this thread, in the runtime's context),
    /// then every queued wake, then shuts the driver down.
    pub(crate) fn shutdown(&self) {
        let Some(core) = self.take_core_for_shutdown() else {
            return; // already shut down
        };
        let shared = &*self.shared;
        let owner = *shared.local_owner.lock();
        if let Some(owner) = owner {
            if owner != thread::current().id() {
                // `!Send` futures may not be dropped here; leak them rather
                // than break their thread affinity.
                eprintln!(
                    "keen: runtime with `spawn_local` tasks dropped on another thread; those tasks are leaked"
                );
                return;
            }
        }
        let ctx = SchedulerContext::CurrentThread(Context {
            shared: self.shared.clone(),
            core: RefCell::new(Some(core)),
        });
        scheduler_context::enter(&ctx, || {
            for task in shared.owned.close_and_take_all() {
                task.shutdown();
            }
            let SchedulerContext::CurrentThread(cx) = &ctx else {
                unreachable!()
            };
            // Drop queued wakes; their tasks are complete now.
            while cx.next_task().is_some() {}
            let remote = {
                let mut remote = shared.remote.lock();
                remote.closed = true;
                std::mem::take(&mut remote.tasks)
            };
            drop(remote);
        });
        shared.parker.shared_driver().shutdown();
    }
}

impl CurrentThread {
    /// The core, for shutdown: at once if no thread drives the scheduler;
    /// otherwise the driving thread (a `block_on` on another thread) is told
    /// to stop — its `block_on` panics, since its future can never finish —
    /// and the core is taken when it comes back. `None` once shut down.
    fn take_core_for_shutdown(&self) -> Option<Box<Core>> {
        let shared = &*self.shared;
        if shared.shut_down.swap(true, SeqCst) {
            return None;
        }
        let core = shared.core.lock().take();
        if core.is_some() {
            return core;
        }
        let activity = shared.parker.shared_driver().activity().clone();
        let _busy = activity.thread_guard();
        let parker = Parker::new(SharedDriver::private(activity));
        let _waiter = Waiter(shared, parker.clone());
        shared.waiters.lock().push(parker.clone());
        loop {
            let core = shared.core.lock().take();
            if core.is_some() {
                return core;
            }
            shared.parker.unpark(); // the driving thread sees `shut_down`
            parker.park(None);
        }
    }
}

impl Drop for CurrentThread {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A thread registered in `waiters`; unregisters when dropped.
struct Waiter<'a>(&'a Shared, Parker);

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.0.waiters.lock().retain(|p| !p.ptr_eq(&self.1));
    }
}

/// Puts the core back when `block_on` ends, unwinding included.
struct ReturnCore<'a> {
    shared: &'a Shared,
    ctx: &'a SchedulerContext,
}

impl Drop for ReturnCore<'_> {
    fn drop(&mut self) {
        let SchedulerContext::CurrentThread(cx) = self.ctx else {
            unreachable!()
        };
        if let Some(core) = cx.core.borrow_mut().take() {
            *self.shared.core.lock() = Some(core);
            for waiter in self.shared.waiters.lock().iter() {
                waiter.unpark();
            }
        }
    }
}

impl Context {
    /// Next task: the remote queue first every `global_queue_interval`
    /// ticks (fairness; eager polls count as ticks), else local first.
    fn next_task(&self) -> Option<Notified> {
        let mut core = self.core.borrow_mut();
        let core = core.as_mut()?;
        let (old, new) = advance_tick(&mut core.tick);
        let shared = &self.shared;
        if crossed(old, new, shared.config.global_queue_interval) {
            shared.pop_remote().or_else(|| core.local.pop_front())
        } else {
            core.local.pop_front().or_else(|| shared.pop_remote())
        }
    }
}

impl Shared {
    /// Runs `future` to completion on this thread, driving every task.
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        let mut future = pin!(future);
        let activity = self.parker.shared_driver().activity().clone();
        // Counted busy for the whole call (parks release it meanwhile).
        let _busy = activity.thread_guard();
        let mut waiter: Option<(Waiter<'_>, Waker)> = None;
        loop {
            // Bind first: a guard in the `if let` scrutinee would live
            // through the body and deadlock `ReturnCore`.
            let core = self.core.lock().take();
            if let Some(core) = core {
                let ctx = SchedulerContext::CurrentThread(Context {
                    shared: self.clone(),
                    core: RefCell::new(Some(core)),
                });
                let _return_core = ReturnCore {
                    shared: self,
                    ctx: &ctx,
                };
                return scheduler_context::enter(&ctx, || self.drive(&ctx, future.as_mut()));
            }
            assert!(
                !self.shut_down.load(Acquire),
                "keen: block_on on a runtime that was shut down"
            );
            // Another thread drives the scheduler: poll our own future until
            // it is ready or the core comes back. Register first, then look
            // at the core again, so its return cannot be missed.
            let Some((Waiter(_, parker), waker)) = &waiter else {
                let parker = Parker::new(SharedDriver::private(activity.clone()));
                let waker = Waker::from(Arc::new(ParkerWaker(parker.clone())));
                self.waiters.lock().push(parker.clone());
                waiter = Some((Waiter(self, parker), waker));
                continue;
            };
            if let Poll::Ready(out) = future.as_mut().poll(&mut TaskContext::from_waker(waker)) {
                return out;
            }
            parker.park(None);
        }
    }

    fn drive<F: Future>(
        self: &Arc<Self>,
        ctx: &SchedulerContext,
        mut future: std::pin::Pin<&mut F>,
    ) -> F::Output {
        let SchedulerContext::CurrentThread(cx) = ctx else {
            unreachable!()
        };
        let shared = &**self;
        let waker = Waker::from(self.clone());
        let mut task_cx = TaskContext::from_waker(&waker);
        let root_locals = UnsafeCell::new(Locals::new());
        shared.woken.store(true, SeqCst);
        loop {
            assert!(
                !shared.shut_down.load(Acquire),
                "keen: the runtime was shut down while this thread was in its block_on"
            );
            if shared.woken.swap(false, AcqRel) {
                let _current = CurrentGuard::enter(Current::task(None, &root_locals));
                if let Poll::Ready(out) = future.as_mut().poll(&mut task_cx) {
                    return out;
                }
            }
            // A batch of tasks, then a look at the driver. The root future
            // being woken does not cut the batch short: a root that keeps
            // yielding must not starve the tasks.
            let mut idle = false;
            for _ in 0..shared.config.event_interval {
                shared.panic_policy.check();
                let Some(task) = cx.next_task() else {
                    idle = true;
                    break;
                };
                shared.metrics.inc(Writer::Owner(0), |s| &s.polls);
                task.run();
            }
            shared.panic_policy.check();
            if idle && !shared.woken.load(Acquire) {
                // Nothing to do: park. Wakes meanwhile go to the remote
                // queue, and the parker's token makes any wake since the
                // queue check count.
                let core = cx.core.borrow_mut().take();
                shared.metrics.inc(Writer::Owner(0), |s| &s.parks);
                shared.parker.park(None);
                *cx.core.borrow_mut() = core;
            } else {
                shared.parker.shared_driver().poll_events();
            }
        }
    }

    fn pop_remote(&self) -> Option<Notified> {
        self.remote.lock().tasks.pop_front()
    }

    /// The metrics writer of the thread driving this scheduler, if that
    /// is the calling thread.
    pub(crate) fn runtime_thread(self: &Arc<Self>) -> Option<Writer> {
        self.is_current_thread().then_some(Writer::Owner(0))
    }

    /// Whether this thread is the one driving this scheduler right now.
    pub(crate) fn is_current_thread(self: &Arc<Self>) -> bool {
        scheduler_context::with(
            |ctx| matches!(ctx, Some(SchedulerContext::CurrentThread(cx)) if Arc::ptr_eq(&cx.shared, self)),
        )
    }

    /// Records that `!Send` tasks live on this thread.
    pub(crate) fn claim_local_owner(&self) {
        let me = thread::current().id();
        let mut owner = self.local_owner.lock();
        match *owner {
            None => *owner = Some(me),
            Some(o) => assert_eq!(
                o, me,
                "spawn_local: the runtime's local tasks live on another thread"
            ),
        }
    }

    pub(crate) fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot(self.owned.len())
    }
}

impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Release);
        self.parker.unpark();
    }
}

impl Schedule for Arc<Shared> {
    fn bind(&self, task: Task) -> Result<(), Task> {
        self.owned.bind(task)
    }

    fn release(&self, task: NonNull<task::Header>) -> Option<Task> {
        self.owned.remove(task)
    }

    fn schedule(&self, task: Notified, _placement: Placement) {
        let task = scheduler_context::with(|ctx| match ctx {
            Some(SchedulerContext::CurrentThread(cx)) if Arc::ptr_eq(&cx.shared, self) => {
                match cx.core.borrow_mut().as_mut() {
                    Some(core) => {
                        core.local.push_back(task);
                        None
                    }
                    None => Some(task),
                }
            }
            _ => Some(task),
        });
        if let Some(task) = task {
            let mut remote = self.remote.lock();
            if remote.closed {
                drop(remote);
                drop(task); // shut down: the task is or will be cancelled
                return;
            }
            remote.tasks.push_back(task);
            drop(remote);
            self.parker.unpark();
        }
    }

    fn unhandled_panic(&self, id: Id, payload: &(dyn Any + Send)) {
        if self.panic_policy.report(id, payload) {
            self.woken.store(true, Release);
            self.parker.unpark();
        }
    }
}
