//! The current-thread scheduler: every task runs on the thread that calls
//! `block_on`. A local FIFO queue serves wakes from that thread; a locked
//! remote queue serves `Handle::spawn` and wakes from any other thread, which
//! also unpark the driver. Only one thread drives the scheduler at a time
//! (it holds the `Core`); a concurrent `block_on` waits for the core while
//! polling its own future.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::task::{Poll, Wake, Waker};
use std::thread::{self, ThreadId};

use parking_lot::Mutex;

use super::common::{Common, Flavour, Root};
use super::{ThreadRef, enter, with_thread};
use crate::config::Config;
use crate::eager::{advance_tick, crossed};
use crate::metrics::Writer;
use crate::park::{Driver, Parker, ParkerList, ParkerWaker, SharedDriver};
use crate::task::{Notified, Placement};

/// Remote tasks taken per look at the remote queue (see `pop_remote`).
const REMOTE_BATCH: usize = 64;

/// State shared by the runtime, its handles and its tasks.
pub(crate) struct Shared {
    pub(crate) common: Common,
    remote: Mutex<Remote>,
    parker: Parker,
    /// The `block_on` future was woken.
    woken: AtomicBool,
    /// The thread that owns `!Send` tasks spawned with `spawn_local`, once any.
    local_owner: Mutex<Option<ThreadId>>,
    /// The core, while no thread drives the scheduler.
    core: Mutex<Option<Box<Core>>>,
    /// Threads in `block_on` waiting for the core (another thread drives);
    /// unparked when it comes back.
    waiters: ParkerList,
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
    /// The driving thread is parked (maybe turning the driver): a wake
    /// its own driver turn makes goes to `local`, and the first one
    /// unparks the parker, which counts the thread busy before the driver
    /// can take the runtime for idle (see the multi-thread `Core::parked`).
    parked: bool,
    /// This park already unparked itself for a local wake.
    woke_self: bool,
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
                common: Common::new(config, 1),
                remote: Mutex::new(Remote {
                    tasks: VecDeque::new(),
                    closed: false,
                }),
                parker,
                woken: AtomicBool::new(false),
                local_owner: Mutex::new(None),
                core: Mutex::new(Some(Box::new(Core {
                    local: VecDeque::new(),
                    tick: 0,
                    parked: false,
                    woke_self: false,
                }))),
                waiters: ParkerList::default(),
                shut_down: AtomicBool::new(false),
            }),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
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
        let cx = Context {
            shared: self.shared.clone(),
            core: RefCell::new(Some(core)),
        };
        let drain = || {
            while let Some(task) = cx.next_task() {
                task.shutdown();
            }
            let remote = {
                let mut remote = shared.remote.lock();
                remote.closed = true;
                std::mem::take(&mut remote.tasks)
            };
            remote.into_iter().for_each(Notified::shutdown);
        };
        let driver = shared.parker.shared_driver();
        shared
            .common
            .shut_down(ThreadRef::CurrentThread(&cx), drain, driver);
    }

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
        let waiter = shared
            .waiters
            .register(Parker::new(SharedDriver::private(activity)));
        loop {
            let core = shared.core.lock().take();
            if core.is_some() {
                return core;
            }
            shared.parker.unpark(); // the driving thread sees `shut_down`
            waiter.parker().park(None);
        }
    }
}

impl Drop for CurrentThread {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Puts the core back when `block_on` ends, unwinding included.
struct ReturnCore<'a> {
    shared: &'a Shared,
    cx: &'a Context,
}

impl Drop for ReturnCore<'_> {
    fn drop(&mut self) {
        if let Some(core) = self.cx.core.borrow_mut().take() {
            *self.shared.core.lock() = Some(core);
            self.shared.waiters.unpark_all();
        }
    }
}

impl Context {
    fn set_parked(&self, parked: bool) {
        if let Some(core) = self.core.borrow_mut().as_mut() {
            core.parked = parked;
            core.woke_self = false;
        }
    }

    /// Next task: the remote queue first every `global_queue_interval`
    /// ticks (fairness; eager polls count as ticks), else local first.
    fn next_task(&self) -> Option<Notified> {
        let mut core = self.core.borrow_mut();
        let core = core.as_mut()?;
        let tick = advance_tick(&mut core.tick);
        let shared = &self.shared;
        if crossed(
            tick.old,
            tick.new,
            shared.common.config.global_queue_interval,
        ) {
            shared
                .pop_remote(&mut core.local)
                .or_else(|| core.local.pop_front())
        } else {
            core.local
                .pop_front()
                .or_else(|| shared.pop_remote(&mut core.local))
        }
    }
}

impl Shared {
    /// Runs `future` to completion on this thread, driving every task.
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        // One root for the whole call: its task-locals survive a switch
        // from waiting for the core to driving.
        let future = pin!(future);
        let mut root = Root::new(future);
        let activity = self.parker.shared_driver().activity().clone();
        // Counted busy for the whole call (parks release it meanwhile).
        let _busy = activity.thread_guard();
        let mut waiting = None;
        loop {
            // Bind first: a guard in the `if let` scrutinee would live
            // through the body and deadlock `ReturnCore`.
            let core = self.core.lock().take();
            if let Some(core) = core {
                let cx = Context {
                    shared: self.clone(),
                    core: RefCell::new(Some(core)),
                };
                let _return_core = ReturnCore {
                    shared: self,
                    cx: &cx,
                };
                return enter(ThreadRef::CurrentThread(&cx), || self.drive(&cx, &mut root));
            }
            assert!(
                !self.shut_down.load(Acquire),
                "keen: block_on on a runtime that was shut down"
            );
            // Another thread drives the scheduler: poll our own future until
            // it is ready or the core comes back. Register first, then look
            // at the core again, so its return cannot be missed.
            let Some((waiter, waker)) = &waiting else {
                let waiter = self
                    .waiters
                    .register(Parker::new(SharedDriver::private(activity.clone())));
                let waker = Waker::from(Arc::new(ParkerWaker(waiter.parker().clone())));
                waiting = Some((waiter, waker));
                continue;
            };
            if let Poll::Ready(out) = root.poll(waker) {
                return out;
            }
            waiter.parker().park(None);
        }
    }

    fn drive<F: Future>(self: &Arc<Self>, cx: &Context, root: &mut Root<'_, F>) -> F::Output {
        let shared = &**self;
        let config = &shared.common.config;
        let waker = Waker::from(self.clone());
        shared.woken.store(true, SeqCst);
        // Polls (root and tasks) since the driver last had a turn: a busy
        // thread looks at timers and I/O every `event_interval` polls, the
        // root's included, and not after every wake of the root (which made
        // a root that yields or spawns in a loop pay a clock read, the wheel
        // lock and an I/O turn per iteration).
        let mut since_events = 0;
        loop {
            assert!(
                !shared.shut_down.load(Acquire),
                "keen: the runtime was shut down while this thread was in its block_on"
            );
            if shared.woken.swap(false, AcqRel) {
                if let Poll::Ready(out) = root.poll(&waker) {
                    return out;
                }
                since_events += 1;
            }
            // A batch of tasks, then a look at the driver. The root future
            // being woken does not cut the batch short: a root that keeps
            // yielding must not starve the tasks.
            let mut idle = false;
            for _ in 0..config.event_interval {
                shared.common.panic_policy.check();
                let Some(task) = cx.next_task() else {
                    idle = true;
                    break;
                };
                shared.common.metrics.inc(Writer::Owner(0), |s| &s.polls);
                task.run();
                since_events += 1;
            }
            shared.common.panic_policy.check();
            if idle && !shared.woken.load(Acquire) {
                // Nothing to do: park. Wakes from other threads meanwhile
                // go to the remote queue, and the parker's token makes any
                // wake since the queue check count; wakes from this
                // thread's own driver turn go to the local queue (the core
                // stays) and run next, with no lock and no extra wake.
                cx.set_parked(true);
                shared.common.metrics.inc(Writer::Owner(0), |s| &s.parks);
                shared.parker.park(None);
                cx.set_parked(false);
                since_events = 0;
            } else if since_events >= config.event_interval {
                shared.parker.shared_driver().poll_events();
                since_events = 0;
            }
        }
    }

    /// The first remote task, with up to `REMOTE_BATCH - 1` more moved to
    /// the back of `local` under the same lock: a burst of remote spawns
    /// waits one fairness interval per batch rather than per task behind a
    /// busy local queue, and costs one lock per batch.
    fn pop_remote(&self, local: &mut VecDeque<Notified>) -> Option<Notified> {
        let mut remote = self.remote.lock();
        let first = remote.tasks.pop_front()?;
        let more = remote.tasks.len().min(REMOTE_BATCH - 1);
        local.extend(remote.tasks.drain(..more));
        Some(first)
    }

    /// The metrics writer of the thread driving this scheduler, if that
    /// is the calling thread.
    pub(crate) fn runtime_thread(self: &Arc<Self>) -> Option<Writer> {
        self.is_current_thread().then_some(Writer::Owner(0))
    }

    /// Whether this thread is the one driving this scheduler right now.
    pub(crate) fn is_current_thread(self: &Arc<Self>) -> bool {
        with_thread(|on| {
            on.and_then(ThreadRef::current_thread)
                .is_some_and(|cx| Arc::ptr_eq(&cx.shared, self))
        })
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

impl Flavour for Shared {
    fn common(&self) -> &Common {
        &self.common
    }

    fn schedule(self: &Arc<Self>, task: Notified, _placement: Placement) {
        let task = with_thread(|on| {
            match on
                .and_then(ThreadRef::current_thread)
                .filter(|cx| Arc::ptr_eq(&cx.shared, self))
            {
                Some(cx) => match cx.core.borrow_mut().as_mut() {
                    Some(core) => {
                        core.local.push_back(task);
                        if core.parked && !core.woke_self {
                            core.woke_self = true;
                            self.parker.unpark_own_turn();
                        }
                        None
                    }
                    None => Some(task),
                },
                None => Some(task),
            }
        });
        if let Some(task) = task {
            let mut remote = self.remote.lock();
            if remote.closed {
                drop(remote);
                task.shutdown(); // cancelled unless it completed
                return;
            }
            remote.tasks.push_back(task);
            drop(remote);
            self.parker.unpark();
        }
    }

    /// `block_on` must see the runtime shut down: wake it.
    fn unhandled_panic_tripped(self: &Arc<Self>) {
        self.woken.store(true, Release);
        self.parker.unpark();
    }
}
