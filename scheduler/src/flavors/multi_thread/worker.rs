//! One worker thread: its core (LIFO slot, local deque, tick), its run loop
//! (LIFO slot, local queue, injector every `global_queue_interval` ticks for
//! fairness, then stealing half of a random sibling's queue), and parking.

use std::cell::RefCell;
use std::sync::Arc;

use crossbeam_deque::{Steal, Worker};

use super::Shared;
use crate::eager::{advance_tick, crossed};
use crate::flavors::{ThreadRef, enter, with_thread};
use crate::metrics::Writer;
use crate::park::Parker;
use crate::task::{Notified, Placement};

/// Consecutive LIFO-slot polls before the slot yields to the queue, so two
/// tasks waking each other cannot starve the rest.
const MAX_LIFO_POLLS: u32 = 3;

/// What a worker owns; moves with the worker thread.
pub(crate) struct Core {
    pub(crate) index: usize,
    pub(crate) lifo: Option<Notified>,
    pub(crate) local: Worker<Notified>,
    pub(crate) parker: Parker,
    tick: u32,
    /// The last tick advance passed an `event_interval` boundary.
    maintenance_due: bool,
    lifo_polls: u32,
    searching: bool,
    /// Parked: the thread is inside `park`, maybe turning the driver. A
    /// wake its own driver turn makes (an I/O event, a timer) goes to this
    /// core's queue, and the first one unparks this worker's own parker,
    /// which counts the thread busy again before the driver can take the
    /// runtime for idle (a paused clock would jump past the woken task).
    parked: bool,
    /// This park already unparked itself for a local wake.
    woke_self: bool,
    /// Inside a driver turn (parked, or a busy worker's maintenance poll):
    /// its wakes come in batches, so queueing them wakes no sibling; the
    /// turn's end looks at the backlog once (as tokio does).
    in_driver_turn: bool,
    /// The next fairness look at the injectors (every
    /// `global_queue_interval` ticks) starts with `from_block_on`; flips at
    /// each, so a steady stream into the plain injector, which every other
    /// look takes first, cannot starve the `block_on` threads' one. (Only
    /// the fairness look: a worker that looks there first whenever it runs
    /// dry races a waiting `block_on` thread for the child it is about to
    /// run itself, and winning costs that thread a cross-thread wake.)
    block_on_first: bool,
    rng: u32,
}

impl Core {
    /// Shuts down every task queued on this core (runtime shutdown: some
    /// may never have been bound to the owned-task list).
    pub(crate) fn shut_down_queued(&mut self) {
        if let Some(task) = self.lifo.take() {
            task.shutdown();
        }
        while let Some(task) = self.local.pop() {
            task.shutdown();
        }
    }

    pub(crate) fn new(index: usize, parker: Parker) -> Core {
        Core {
            index,
            lifo: None,
            local: Worker::new_fifo(),
            parker,
            tick: 0,
            maintenance_due: false,
            lifo_polls: 0,
            searching: false,
            parked: false,
            woke_self: false,
            in_driver_turn: false,
            block_on_first: false,
            rng: (index as u32).wrapping_mul(0x9E37_79B9) | 1,
        }
    }

    fn next_random(&mut self, bound: usize) -> usize {
        // xorshift32: only spreads steal attempts, needs no quality.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        self.rng as usize % bound
    }

    /// Which injector the next fairness look starts with (see
    /// `block_on_first`).
    fn next_injector_order(&mut self) -> bool {
        self.block_on_first = !self.block_on_first;
        self.block_on_first
    }

    fn has_local_work(&self) -> bool {
        self.lifo.is_some() || !self.local.is_empty()
    }

    /// More queued here than this worker's next task: a sibling's wake
    /// would find something to steal.
    fn has_backlog(&self) -> bool {
        self.local.len() + usize::from(self.lifo.is_some()) > 1
    }
}

/// This worker's entry in the thread's scheduler context.
pub(crate) struct Context {
    pub(crate) shared: Arc<Shared>,
    /// The worker's index (its core's), also its metrics slot.
    pub(crate) index: usize,
    pub(crate) core: RefCell<Option<Box<Core>>>,
}

/// The worker thread's body.
pub(crate) fn run(shared: Arc<Shared>, core: Box<Core>) {
    let config = &shared.common.config;
    if let Some(hook) = &config.on_thread_start {
        hook();
    }
    let cx = Context {
        shared: shared.clone(),
        index: core.index,
        core: RefCell::new(Some(core)),
    };
    enter(ThreadRef::MultiThread(&cx), || {
        let _busy = shared.driver.activity().thread_guard();
        let _worker = shared.driver.activity().mark_worker();
        cx.run_loop();
    });
    if let Some(core) = cx.core.into_inner() {
        shared.return_core(core);
    }
    if let Some(hook) = &config.on_thread_stop {
        hook();
    }
}

impl Context {
    fn run_loop(&self) {
        let shared = &*self.shared;
        while !shared.is_shutdown() {
            let task = self.next_local_or_global().or_else(|| self.steal());
            match task {
                Some(task) => {
                    self.found_work();
                    shared
                        .common
                        .metrics
                        .inc(Writer::Owner(self.index), |s| &s.polls);
                    task.run();
                    self.maintenance();
                }
                None => self.park(),
            }
        }
    }

    fn with_core<R>(&self, f: impl FnOnce(&mut Core) -> R) -> R {
        let mut core = self.core.borrow_mut();
        f(core.as_mut().expect("worker core present while running"))
    }

    fn next_local_or_global(&self) -> Option<Notified> {
        let shared = &*self.shared;
        let config = &shared.common.config;
        self.with_core(|core| {
            // Eager polls count as ticks (see `advance_tick`), and a nested
            // spawn queued for remote work makes the injector due now.
            let tick = advance_tick(&mut core.tick);
            core.maintenance_due = crossed(tick.old, tick.new, config.event_interval);
            if tick.remote_due || crossed(tick.old, tick.new, config.global_queue_interval) {
                let block_on_first = core.next_injector_order();
                if let Some(task) = shared.steal_injector(&core.local, block_on_first) {
                    return Some(task);
                }
            }
            if core.lifo_polls < MAX_LIFO_POLLS {
                if let Some(task) = core.lifo.take() {
                    core.lifo_polls += 1;
                    return Some(task);
                }
            } else if let Some(task) = core.lifo.take() {
                core.local.push(task);
            }
            core.lifo_polls = 0;
            core.local
                .pop()
                .or_else(|| shared.steal_injector(&core.local, false))
        })
    }

    /// Steals half of a random sibling's queue.
    fn steal(&self) -> Option<Notified> {
        let shared = &*self.shared;
        let workers = shared.remotes.len();
        if workers < 2 {
            return None;
        }
        self.with_core(|core| {
            let start = core.next_random(workers);
            for retry in [false, true] {
                let mut contended = false;
                for i in 0..workers {
                    let victim = (start + i) % workers;
                    if victim == core.index {
                        continue;
                    }
                    match shared.remotes[victim]
                        .stealer
                        .steal_batch_and_pop(&core.local)
                    {
                        Steal::Success(task) => {
                            shared
                                .common
                                .metrics
                                .inc(Writer::Owner(core.index), |s| &s.steals);
                            return Some(task);
                        }
                        Steal::Retry => contended = true,
                        Steal::Empty => {}
                    }
                }
                if !contended || retry {
                    break;
                }
            }
            shared.steal_injector(&core.local, false)
        })
    }

    fn found_work(&self) {
        let was_searching = self.with_core(|core| std::mem::replace(&mut core.searching, false));
        if was_searching && self.shared.idle.stop_searching() {
            // The last searcher found work: wake another to look for more.
            self.shared.notify_parked();
        }
    }

    /// Every `event_interval` ticks: process driver events (timers) and
    /// let parked workers know about leftover local work.
    fn maintenance(&self) {
        let shared = &*self.shared;
        let due = self.with_core(|core| std::mem::take(&mut core.maintenance_due));
        if due {
            let driver = self.with_core(|core| {
                core.in_driver_turn = true;
                core.parker.shared_driver().clone()
            });
            driver.poll_events();
            // One queued task is this worker's next: only a backlog beyond
            // it (left before, or queued by the turn) is worth a wake.
            if self.with_core(|core| {
                core.in_driver_turn = false;
                core.has_backlog()
            }) {
                shared.notify_parked();
            }
        }
    }

    fn park(&self) {
        let shared = &*self.shared;
        let (index, searching, parker) = self.with_core(|core| {
            (
                core.index,
                std::mem::replace(&mut core.searching, false),
                core.parker.clone(),
            )
        });
        shared.idle.park(index, searching);
        // Final check after counting ourselves idle (see `idle.rs`).
        let has_work = self.with_core(|core| core.has_local_work()) || shared.has_remote_work();
        if !has_work && !shared.is_shutdown() {
            // The core stays: wakes from this thread's own driver turn (the
            // only wakes this thread can make while parked) go to its local
            // queue and run here next, with no hop to another thread. Wakes
            // from other threads go to the injector as always.
            self.with_core(|core| {
                core.parked = true;
                core.in_driver_turn = true;
            });
            shared
                .common
                .metrics
                .inc(Writer::Owner(index), |s| &s.parks);
            parker.park(None);
            self.with_core(|core| {
                core.parked = false;
                core.woke_self = false;
                core.in_driver_turn = false;
            });
        }
        let woken_to_search = shared.idle.unpark(index);
        let backlog = self.with_core(|core| {
            core.searching = woken_to_search;
            core.has_backlog()
        });
        // Counted busy again, so the wake goes to a sibling.
        if backlog {
            shared.notify_parked();
        }
    }
}

/// Queues `task` on this worker if the calling thread is one of `shared`'s
/// workers with its core present; otherwise gives it back.
pub(crate) fn schedule_local(
    shared: &Arc<Shared>,
    task: Notified,
    placement: Placement,
) -> Option<Notified> {
    with_thread(|on| {
        let Some(cx) = on
            .and_then(ThreadRef::multi_thread)
            .filter(|cx| Arc::ptr_eq(&cx.shared, shared))
        else {
            return Some(task);
        };
        let mut core = cx.core.borrow_mut();
        let Some(core) = core.as_mut() else {
            return Some(task);
        };
        if core.parked && !core.woke_self {
            // See `Core::parked`: count this thread busy before the driver
            // it is inside looks at idleness again.
            core.woke_self = true;
            core.parker.unpark_own_turn();
        }
        let pushed_to_queue = match placement {
            Placement::Yielded => {
                // After its own poll, with nothing else queued here, this
                // worker runs it next: a sibling woken to steal it would
                // only move it across threads.
                let alone = core.lifo.is_none() && core.local.is_empty();
                core.local.push(task);
                !alone
            }
            Placement::Back | Placement::Promoted => {
                core.local.push(task);
                true
            }
            Placement::Woken => match core.lifo.replace(task) {
                Some(prev) => {
                    core.local.push(prev);
                    true
                }
                None => false,
            },
        };
        if pushed_to_queue && !core.in_driver_turn {
            shared.notify_parked();
        }
        None
    })
}
