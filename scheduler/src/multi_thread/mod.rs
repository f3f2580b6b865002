//! The work-stealing multi-thread scheduler.
//!
//! Per worker: a LIFO slot for the task most recently woken or spawned on
//! that worker, a `crossbeam_deque::Worker` (FIFO) and its `Stealer`, which
//! the other workers steal half of when they run dry. One shared `Injector`
//! takes spawns and wakes from outside the workers; each worker checks it
//! before its local queue every `global_queue_interval` ticks, so remote work
//! is never starved. Idle workers park (see `idle.rs`, `park.rs`) at 0% CPU.
//!
//! Shutdown: set the flag, wake and join every worker, then, on the thread
//! that shuts down: close the owned-task list and drop each task's future
//! exactly once, close the injector, and drop every queued wake.

pub(crate) mod idle;
mod worker;

use crate::task::Placement;
use std::any::Any;
use std::future::Future;
use std::pin::pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::task::{Context as TaskContext, Poll, Waker};
use std::thread::{self, JoinHandle as ThreadHandle};
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use parking_lot::{Condvar, Mutex};

use self::idle::Idle;
pub(crate) use self::worker::Context;
use self::worker::Core;
use crate::config::Config;
use crate::context::{Current, CurrentGuard};
use crate::locals::Locals;
use crate::metrics::{Metrics, MetricsSnapshot, Writer};
use crate::panic_policy::PanicPolicy;
use crate::park::{Driver, Parker, ParkerWaker, SharedDriver};
use crate::scheduler_context::{self, SchedulerContext};
use crate::task::{self, Id, Notified, OwnedTasks, Schedule, Task};

struct Remote {
    stealer: Stealer<Notified>,
    parker: Parker,
}

/// State shared by the workers, the handles and the tasks.
pub(crate) struct Shared {
    injector: Injector<Notified>,
    injector_closed: AtomicBool,
    remotes: Box<[Remote]>,
    idle: Idle,
    owned: OwnedTasks,
    pub(crate) config: Config,
    pub(crate) metrics: Metrics,
    shutdown: AtomicBool,
    panic_policy: PanicPolicy,
    pub(crate) driver: Arc<SharedDriver>,
    /// Cores not running on a worker: before launch, and after exit.
    #[allow(
        clippy::vec_box,
        reason = "cores move between threads; boxing keeps the move cheap"
    )]
    cores: Mutex<Vec<Box<Core>>>,
    cores_returned: Condvar,
    /// Threads parked in `block_on`, woken on shutdown-on-panic.
    block_on_waiters: Mutex<Vec<Parker>>,
}

/// A multi-thread scheduler.
pub(crate) struct MultiThread {
    shared: Arc<Shared>,
    threads: Mutex<Vec<ThreadHandle<()>>>,
}

impl MultiThread {
    /// Builds the scheduler; no worker runs until [`launch`](Self::launch).
    pub(crate) fn new(config: Config, driver: Box<dyn Driver>) -> MultiThread {
        let workers = config.worker_threads.max(1);
        let driver = SharedDriver::new(driver);
        let mut cores = Vec::with_capacity(workers);
        let mut remotes = Vec::with_capacity(workers);
        for index in 0..workers {
            let parker = Parker::new(driver.clone());
            let core = Core::new(index, parker.clone());
            remotes.push(Remote {
                stealer: core.local.stealer(),
                parker,
            });
            cores.push(Box::new(core));
        }
        MultiThread {
            shared: Arc::new(Shared {
                injector: Injector::new(),
                injector_closed: AtomicBool::new(false),
                remotes: remotes.into_boxed_slice(),
                idle: Idle::new(workers),
                owned: OwnedTasks::new(),
                panic_policy: PanicPolicy::new(config.unhandled_panic),
                config,
                metrics: Metrics::new(workers),
                shutdown: AtomicBool::new(false),
                driver,
                cores: Mutex::new(cores),
                cores_returned: Condvar::new(),
                block_on_waiters: Mutex::new(Vec::new()),
            }),
            threads: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Starts one thread per core.
    pub(crate) fn launch(&self) -> std::io::Result<()> {
        let cores = std::mem::take(&mut *self.shared.cores.lock());
        let mut threads = self.threads.lock();
        for core in cores {
            let shared = self.shared.clone();
            let mut builder = thread::Builder::new().name((shared.config.thread_name)());
            if let Some(size) = shared.config.thread_stack_size {
                builder = builder.stack_size(size);
            }
            threads.push(builder.spawn(move || worker::run(shared, core))?);
        }
        Ok(())
    }

    /// Blocks this (non-worker) thread until `future` completes; tasks run
    /// on the workers meanwhile.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.shared.block_on(future)
    }

    /// Stops the workers (waiting up to `timeout` for them), then drops
    /// every task's future and every queued wake on this thread.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let shared = &*self.shared;
        if shared.shutdown.swap(true, SeqCst) {
            return;
        }
        for remote in shared.remotes.iter() {
            remote.parker.unpark();
        }
        let threads = std::mem::take(&mut *self.threads.lock());
        let deadline = timeout.map(|t| Instant::now() + t);
        {
            let mut cores = shared.cores.lock();
            while cores.len() < threads.len() {
                match deadline {
                    Some(deadline) => {
                        if shared
                            .cores_returned
                            .wait_until(&mut cores, deadline)
                            .timed_out()
                        {
                            break;
                        }
                    }
                    None => shared.cores_returned.wait(&mut cores),
                }
            }
        }
        let all_returned = shared.cores.lock().len() == threads.len();
        for handle in threads {
            if all_returned || handle.is_finished() {
                let _ = handle.join();
            }
        }
        let ctx = SchedulerContext::MultiThreadBlockOn;
        scheduler_context::enter(&ctx, || {
            for task in shared.owned.close_and_take_all() {
                task.shutdown();
            }
            shared.injector_closed.store(true, SeqCst);
            shared.drain_injector();
            let cores = std::mem::take(&mut *shared.cores.lock());
            for mut core in cores {
                drop(core.lifo.take());
                while core.local.pop().is_some() {}
            }
        });
        shared.driver.shutdown();
    }
}

impl Drop for MultiThread {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

struct UnregisterWaiter<'a>(&'a Shared, &'a Parker);

impl Drop for UnregisterWaiter<'_> {
    fn drop(&mut self) {
        self.0.block_on_waiters.lock().retain(|p| !p.ptr_eq(self.1));
    }
}

impl Shared {
    /// Blocks this (non-worker) thread until `future` completes; tasks run
    /// on the workers meanwhile.
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        let mut future = pin!(future);
        let activity = self.driver.activity();
        let parker = Parker::new(SharedDriver::private(activity.clone()));
        let _busy = activity.thread_guard();
        let waker = Waker::from(Arc::new(ParkerWaker(parker.clone())));
        let mut cx = TaskContext::from_waker(&waker);
        let root_locals = std::cell::UnsafeCell::new(Locals::new());
        let ctx = SchedulerContext::MultiThreadBlockOn;
        self.block_on_waiters.lock().push(parker.clone());
        let _unregister = UnregisterWaiter(self, &parker);
        scheduler_context::enter(&ctx, || {
            loop {
                self.panic_policy.check();
                {
                    let _current = CurrentGuard::enter(Current::task(None, &root_locals));
                    if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                        return out;
                    }
                }
                parker.park(None);
            }
        })
    }

    fn is_shutdown(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    fn return_core(&self, core: Box<Core>) {
        self.cores.lock().push(core);
        self.cores_returned.notify_all();
    }

    fn steal_injector(&self, local: &Worker<Notified>) -> Option<Notified> {
        loop {
            match self.injector.steal_batch_and_pop(local) {
                Steal::Success(task) => return Some(task),
                Steal::Empty => return None,
                Steal::Retry => {}
            }
        }
    }

    fn has_remote_work(&self) -> bool {
        !self.injector.is_empty() || self.remotes.iter().any(|r| !r.stealer.is_empty())
    }

    fn drain_injector(&self) {
        loop {
            match self.injector.steal() {
                Steal::Success(task) => drop(task),
                Steal::Empty => break,
                Steal::Retry => {}
            }
        }
    }

    /// Wakes one parked worker if work is waiting and no one searches.
    fn notify_parked(&self) {
        if let Some(worker) = self.idle.worker_to_notify() {
            self.remotes[worker].parker.unpark();
        }
    }

    /// If this thread is one of this scheduler's workers (the only threads
    /// where `spawn` may poll eagerly), its metrics writer. A thread inside
    /// this scheduler's `block_on` is not a worker: it spawns lazily.
    pub(crate) fn runtime_thread(self: &Arc<Self>) -> Option<Writer> {
        scheduler_context::with(|ctx| match ctx {
            Some(SchedulerContext::MultiThread(cx)) if Arc::ptr_eq(&cx.shared, self) => {
                Some(Writer::Owner(cx.index))
            }
            _ => None,
        })
    }

    pub(crate) fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot(self.owned.len())
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }
}

impl Schedule for Arc<Shared> {
    fn bind(&self, task: Task) -> Result<(), Task> {
        self.owned.bind(task)
    }

    fn release(&self, task: NonNull<task::Header>) -> Option<Task> {
        self.owned.remove(task)
    }

    fn schedule(&self, task: Notified, placement: Placement) {
        let Some(task) = worker::schedule_local(self, task, placement) else {
            return;
        };
        if self.injector_closed.load(SeqCst) {
            drop(task);
            return;
        }
        self.injector.push(task);
        if self.injector_closed.load(SeqCst) {
            // Raced with shutdown's drain: drain what it may have missed.
            self.drain_injector();
            return;
        }
        self.notify_parked();
    }

    fn unhandled_panic(&self, id: Id, payload: &(dyn Any + Send)) {
        if self.panic_policy.report(id, payload) {
            for waiter in self.block_on_waiters.lock().iter() {
                waiter.unpark();
            }
        }
    }
}
