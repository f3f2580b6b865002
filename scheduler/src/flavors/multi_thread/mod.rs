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

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::task::Waker;
use std::thread::{self, JoinHandle as ThreadHandle};
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use parking_lot::{Condvar, Mutex};

use self::idle::Idle;
pub(crate) use self::worker::Context;
use self::worker::Core;
use super::common::{Common, Flavour, Root};
use super::{ThreadRef, enter, with_thread};
use crate::config::Config;
use crate::eager;
use crate::metrics::Writer;
use crate::park::{Driver, Parker, ParkerList, ParkerWaker, SharedDriver};
use crate::task::{Notified, Placement};

struct Remote {
    stealer: Stealer<Notified>,
    parker: Parker,
}

/// State shared by the workers, the handles and the tasks.
pub(crate) struct Shared {
    pub(crate) common: Common,
    injector: Injector<Notified>,
    /// The second injector: tasks a `block_on` thread promoted in its eager
    /// spawns that woke themselves in that first step, handed over from its
    /// outbox (see [`BlockOn`]). The workers take from it as from
    /// `injector` (the fairness look alternates which one comes first); a `block_on`
    /// thread whose root is pending also runs them itself
    /// ([`BlockOn::help`]), and only them: a task queued any other way
    /// (`spawn_lazy`, even inside an eager step; a wake of a task from an
    /// eager step; a `Handle` on a plain thread; a wake from outside)
    /// never runs off the workers.
    from_block_on: Injector<Notified>,
    /// Closes both injectors.
    injector_closed: AtomicBool,
    remotes: Box<[Remote]>,
    idle: Idle,
    shutdown: AtomicBool,
    pub(crate) driver: Arc<SharedDriver>,
    /// Cores not running on a worker: before launch, and after exit.
    #[allow(
        clippy::vec_box,
        reason = "cores move between threads; boxing keeps the move cheap"
    )]
    cores: Mutex<Vec<Box<Core>>>,
    cores_returned: Condvar,
    /// Shutdown took the cores and shut their queued tasks down: a core
    /// returned later (a worker that outlived `shutdown_timeout`) has its
    /// queued tasks shut down as it comes back. Read and set under `cores`.
    cores_drained: AtomicBool,
    /// Threads parked in `block_on`, woken on shutdown-on-panic.
    block_on_waiters: ParkerList,
}

/// Tasks a worker takes from an injector at once (see `steal_injector`).
const INJECTOR_BATCH: usize = 128;

/// Tasks the thread inside `block_on` holds before handing them to the
/// injector in one burst.
const OUTBOX: usize = 32;

/// The thread inside a multi-thread `block_on`: it spawns eagerly (see
/// `eager.rs`) but is no worker, so tasks it schedules go to the injector.
/// Tasks it schedules *during an eager spawn* (children that woke
/// themselves in their first step, wakes those steps make, lazy spawns
/// there) wait in an outbox, handed over `OUTBOX` at a time and when the
/// outermost eager spawn returns (and, as a backstop, when the root future
/// suspends and when `block_on` ends, unwinding too), with one worker
/// notified per burst: a parent spawning 10,000 children from `block_on`
/// costs the workers a wake per burst instead of one per child. The
/// children that woke themselves go to `from_block_on` (this thread may
/// run them while its root waits), the rest to `injector`. Wakes made by
/// the root future itself are never held: code there may block the thread
/// (a std channel, say) waiting for the task it just woke.
pub(crate) struct BlockOn {
    pub(crate) shared: Arc<Shared>,
    /// Held tasks, each with whether it goes to `from_block_on`.
    outbox: RefCell<Vec<(Notified, bool)>>,
}

impl BlockOn {
    pub(crate) fn flush(&self) {
        let shared = &*self.shared;
        let mut outbox = self.outbox.borrow_mut();
        if outbox.is_empty() {
            return;
        }
        if shared.injector_closed.load(SeqCst) {
            // After a shutdown each hand-over drops the task's future here,
            // and its `Drop` may spawn eagerly and hold a task in this
            // outbox again: not under the borrow. (What those drops hold is
            // handed over when their own spawns return.)
            let held = std::mem::take(&mut *outbox);
            drop(outbox);
            for (task, _) in held {
                task.shutdown();
            }
            return;
        }
        // Drained in place: the outbox keeps its capacity for the next burst.
        for (task, helpable) in outbox.drain(..) {
            if helpable {
                shared.from_block_on.push(task);
            } else {
                shared.injector.push(task);
            }
        }
        drop(outbox);
        // As in `inject`, once for the burst; the drain drops futures,
        // so it too runs with the outbox free.
        if shared.injector_closed.load(SeqCst) {
            shared.drain_injector();
            return;
        }
        shared.notify_parked();
    }
}

impl BlockOn {
    /// While the root future is pending, runs the tasks `block_on` threads
    /// handed over (`Shared::from_block_on`: tasks that woke themselves in
    /// their eager first step on such a thread) here, in batches, until the root is woken
    /// (`true`: its token is taken, poll it again) or none is waiting
    /// (`false`: park; a token set meanwhile ends that park at once). The workers were notified for those tasks when
    /// they were handed over, so helping never keeps work from them; it
    /// saves the round trip through a sleeping worker for the common
    /// `block_on` shape of spawning a task and awaiting it (a task that
    /// yielded once in its eager step then ends where it started).
    fn help(&self, root: &Parker) -> bool {
        let shared = &*self.shared;
        loop {
            if root.take_token() {
                return true;
            }
            // A batch of `event_interval` tasks: the root being woken does
            // not cut it short (as on current-thread). A root awaiting
            // many children in turn, each of which wakes it as it ends,
            // then reads a batch of them per poll instead of being polled
            // once per child.
            for _ in 0..shared.common.config.event_interval {
                if shared.is_shutdown() {
                    return false;
                }
                // Nothing waiting (a look, cheaper than a steal's fence):
                // poll the root if it was woken meanwhile, else park.
                if shared.from_block_on.is_empty() {
                    return root.take_token();
                }
                let task = loop {
                    match shared.from_block_on.steal() {
                        Steal::Success(task) => break task,
                        Steal::Empty => return root.take_token(),
                        Steal::Retry => {}
                    }
                };
                shared.common.metrics.inc(Writer::Remote, |s| &s.polls);
                task.run();
            }
        }
    }
}

impl Drop for BlockOn {
    fn drop(&mut self) {
        self.flush();
    }
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
                common: Common::new(config, workers),
                injector: Injector::new(),
                from_block_on: Injector::new(),
                injector_closed: AtomicBool::new(false),
                remotes: remotes.into_boxed_slice(),
                idle: Idle::new(workers),
                shutdown: AtomicBool::new(false),
                driver,
                cores: Mutex::new(cores),
                cores_returned: Condvar::new(),
                cores_drained: AtomicBool::new(false),
                block_on_waiters: ParkerList::default(),
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
            let config = &shared.common.config;
            let mut builder = thread::Builder::new().name((config.thread_name)());
            if let Some(size) = config.thread_stack_size {
                builder = builder.stack_size(size);
            }
            threads.push(builder.spawn(move || worker::run(shared, core))?);
        }
        Ok(())
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
        let drain = || {
            shared.injector_closed.store(true, SeqCst);
            shared.drain_injector();
            let cores = {
                let mut cores = shared.cores.lock();
                shared.cores_drained.store(true, SeqCst);
                std::mem::take(&mut *cores)
            };
            for mut core in cores {
                core.shut_down_queued();
            }
        };
        shared
            .common
            .shut_down(ThreadRef::MultiThreadShutdown, drain, &shared.driver);
    }
}

impl Drop for MultiThread {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl Shared {
    /// Blocks this (non-worker) thread until `future` completes; tasks run
    /// on the workers meanwhile.
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        let future = pin!(future);
        let mut root = Root::new(future);
        let activity = self.driver.activity();
        let _busy = activity.thread_guard();
        let waiter = self
            .block_on_waiters
            .register(Parker::new(SharedDriver::private(activity.clone())));
        let parker = waiter.parker();
        let waker = Waker::from(Arc::new(ParkerWaker(parker.clone())));
        let cx = BlockOn {
            shared: self.clone(),
            outbox: RefCell::new(Vec::with_capacity(OUTBOX)),
        };
        enter(ThreadRef::MultiThreadBlockOn(&cx), || {
            let output = root.poll_until_ready(
                &waker,
                || self.common.panic_policy.check(),
                || {
                    cx.flush();
                    if !cx.help(parker) {
                        parker.park(None);
                    }
                },
            );
            // Inside the runtime's context: after a shutdown the flush shuts
            // the held tasks down, dropping futures that may need it.
            cx.flush();
            output
        })
    }

    fn is_shutdown(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    /// Pushes a task to the injector; `false` if the runtime shut down
    /// (the task is dropped).
    fn inject(&self, task: Notified) -> bool {
        if self.injector_closed.load(SeqCst) {
            task.shutdown();
            return false;
        }
        self.injector.push(task);
        if self.injector_closed.load(SeqCst) {
            // Raced with shutdown's drain: drain what it may have missed.
            self.drain_injector();
            return false;
        }
        true
    }

    /// On the thread inside this scheduler's `block_on`, during an eager
    /// spawn, keeps `task` in that thread's outbox (see [`BlockOn`]) and
    /// gives back `None`; elsewhere gives it back.
    fn hold_for_block_on(
        self: &Arc<Self>,
        task: Notified,
        placement: Placement,
    ) -> Option<Notified> {
        with_thread(|on| match on {
            Some(ThreadRef::MultiThreadBlockOn(cx))
                if Arc::ptr_eq(&cx.shared, self) && eager::in_eager_spawn() =>
            {
                eager::release_held_at_outermost_return();
                let full = {
                    let mut outbox = cx.outbox.borrow_mut();
                    outbox.push((task, placement == Placement::Promoted));
                    outbox.len() >= OUTBOX
                };
                if full {
                    cx.flush();
                }
                None
            }
            _ => Some(task),
        })
    }

    fn return_core(&self, mut core: Box<Core>) {
        let mut cores = self.cores.lock();
        if self.cores_drained.load(SeqCst) {
            // Back after shutdown drained the others (`cores_drained`): its
            // queue may hold tasks never bound to the owned-task list.
            drop(cores);
            core.shut_down_queued();
            return;
        }
        cores.push(core);
        drop(cores);
        self.cores_returned.notify_all();
    }

    /// A batch from the injector, else from the `block_on` threads' one
    /// (or the other way round, `block_on_first`: the fairness look
    /// alternates): the
    /// first task to run now, and more moved to `local` until it holds
    /// `INJECTOR_BATCH - 1` (a burst of remote spawns behind busy workers then waits
    /// a few fairness intervals, not one per 32 tasks). One crossbeam steal
    /// takes at most the rest of one of the injector's blocks (63 slots),
    /// so a batch is a few steals.
    fn steal_injector(&self, local: &Worker<Notified>, block_on_first: bool) -> Option<Notified> {
        let order = if block_on_first {
            [&self.from_block_on, &self.injector]
        } else {
            [&self.injector, &self.from_block_on]
        };
        let first = order.into_iter().find_map(|injector| {
            loop {
                match injector.steal_batch_with_limit_and_pop(local, INJECTOR_BATCH) {
                    Steal::Success(task) => return Some((injector, task)),
                    Steal::Empty => return None,
                    Steal::Retry => {}
                }
            }
        });
        let (injector, first) = first?;
        while local.len() < INJECTOR_BATCH - 1 {
            let room = INJECTOR_BATCH - 1 - local.len();
            match injector.steal_batch_with_limit(local, room) {
                Steal::Success(()) => {}
                Steal::Empty => break,
                Steal::Retry => {}
            }
        }
        Some(first)
    }

    fn has_remote_work(&self) -> bool {
        !self.injector.is_empty()
            || !self.from_block_on.is_empty()
            || self.remotes.iter().any(|r| !r.stealer.is_empty())
    }

    /// Shuts down every task queued in both injectors.
    fn drain_injector(&self) {
        for injector in [&self.injector, &self.from_block_on] {
            loop {
                match injector.steal() {
                    Steal::Success(task) => task.shutdown(),
                    Steal::Empty => break,
                    Steal::Retry => {}
                }
            }
        }
    }

    /// Wakes one parked worker if work is waiting and no one searches.
    fn notify_parked(&self) {
        if let Some(worker) = self.idle.worker_to_notify() {
            self.remotes[worker].parker.unpark();
        }
    }

    /// If this thread is one of this scheduler's runtime threads (where
    /// `spawn` may poll eagerly), its metrics writer: a worker's own slot,
    /// or the shared one for the thread inside this scheduler's `block_on`
    /// (eager like current-thread's; not a worker, so its wakes go to the
    /// injector).
    pub(crate) fn runtime_thread(self: &Arc<Self>) -> Option<Writer> {
        with_thread(|on| match on? {
            ThreadRef::MultiThread(cx) if Arc::ptr_eq(&cx.shared, self) => {
                Some(Writer::Owner(cx.index))
            }
            ThreadRef::MultiThreadBlockOn(cx) if Arc::ptr_eq(&cx.shared, self) => {
                Some(Writer::Remote)
            }
            _ => None,
        })
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }
}

impl Flavour for Shared {
    fn common(&self) -> &Common {
        &self.common
    }

    fn remote_backlog(&self) -> bool {
        !self.injector.is_empty()
    }

    fn schedule(self: &Arc<Self>, task: Notified, placement: Placement) {
        let Some(task) = worker::schedule_local(self, task, placement) else {
            return;
        };
        let Some(task) = self.hold_for_block_on(task, placement) else {
            return;
        };
        if self.inject(task) {
            self.notify_parked();
        }
    }

    /// Threads in `block_on` must see the runtime shut down: wake them.
    fn unhandled_panic_tripped(self: &Arc<Self>) {
        self.block_on_waiters.unpark_all();
    }
}
