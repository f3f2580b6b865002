//! Eager spawn, keen's main idea, in one place: the spawn modes, when a
//! spawn may poll in place, the nesting limit, how eager polls count for
//! fairness, and [`spawn`], the one route every spawn takes.
//!
//! # The protocol
//! 1. A spawn in [`SpawnMode::Eager`] polls in place when all hold: the
//!    runtime was built with `eager(true)`; the caller is one of this
//!    scheduler's runtime threads (a worker, or the thread inside its
//!    `block_on`, on both flavours); the eager nesting depth on this thread is
//!    below `eager_depth` (so a chain of 10,000 nested spawns cannot
//!    overflow the stack); and, for a spawn nested in another eager poll,
//!    no remote work is waiting for this scheduler (see 6). Otherwise
//!    — and always in [`SpawnMode::Lazy`] — the task is queued, first
//!    polled by the scheduler.
//! 2. The eager poll (`spawn_eager` in `task/harness.rs`, the unsafe half
//!    of the protocol) allocates the task once, installs the child's
//!    context (id, task-locals, an empty poll slot: nothing the parent
//!    keeps there leaks in), polls it under `catch_unwind` and puts
//!    the parent's context back on every exit path.
//! 3. `Ready`: the output goes to the join handle; with nothing else
//!    referring to the task it is freed inside `spawn` and the handle holds
//!    the output (`task/join.rs`). It never touched a run queue.
//! 4. `Pending`: the task is promoted — bound to the owned-task list, its
//!    scheduler stored, queued if it woke itself during the poll.
//! 5. Only spawn is eager. A wake never polls inline: it always queues.
//! 6. Fairness: one scheduler poll may run a chain of eager children, so
//!    every eager poll counts as a scheduler tick ([`advance_tick`]) when
//!    the scheduler decides whether the remote queue is due. And a chain
//!    does not grow while remote work waits: a nested spawn (depth ≥ 1)
//!    that finds the scheduler's remote queue non-empty
//!    ([`Flavour::remote_backlog`], a lock-free look) is queued instead,
//!    at the back, and the scheduler takes its remote queue first on its
//!    next tick. Without this one scheduler poll ran up to `eager_depth`
//!    links of a chain (32 × 10 µs in tokio's `busy2` bench) before a
//!    remote spawn was looked at. A spawn at depth 0 does not look: that
//!    keeps the ready spawn at its cost (the look is ~17 instructions of
//!    its ~270 on multi-thread), and a parent at depth 0 holds up remote
//!    work by at most one nested level of children. The current-thread
//!    scheduler never reports a backlog (its remote queue is behind a
//!    lock, and its one thread is busy with the chain either way).
//!
//! The states an eager task goes through are in `task/state.rs`
//! (`INITIAL_EAGER`), the user-facing consequences in `docs/eager.md`.

use std::future::Future;
use std::sync::Arc;

use crate::context;
use crate::flavors::common::Flavour;
use crate::locals::Locals;
use crate::metrics::Writer;
use crate::task::{self, JoinHandle};

/// How a spawn starts its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnMode {
    /// Polled in place until its first `Pending` where the rules allow
    /// (see the module docs), else queued.
    Eager,
    /// Queued, first polled by the scheduler (tokio's `spawn`).
    Lazy,
}

/// The per-thread eager state (in the crate's thread context): nesting
/// depth, eager polls not yet counted as scheduler ticks, and whether the
/// thread holds tasks to hand over when the outermost eager spawn returns
/// (the multi-thread `block_on` outbox).
#[derive(Clone, Copy)]
pub(crate) struct EagerCount {
    depth: u32,
    polls: u32,
    held: bool,
    /// A nested spawn was queued because remote work was waiting: the
    /// scheduler's next tick takes the remote queue first.
    remote_due: bool,
}

impl EagerCount {
    pub(crate) const ZERO: EagerCount = EagerCount {
        depth: 0,
        polls: 0,
        held: false,
        remote_due: false,
    };
}

/// Whether an eager spawn is running on this thread right now.
pub(crate) fn in_eager_spawn() -> bool {
    context::with(|c| c.eager.get().depth > 0).unwrap_or(false)
}

/// Asks for [`flavors::release_held`](crate::flavors::release_held) to be
/// called when the outermost eager spawn on this thread returns.
pub(crate) fn release_held_at_outermost_return() {
    context::with(|c| {
        let mut count = c.eager.get();
        count.held = true;
        c.eager.set(count);
    });
}

/// Spawns `future` on `scheduler`: the one spawn route. `here` is the
/// caller's metrics writer if it is one of `scheduler`'s runtime threads.
#[inline]
pub(crate) fn spawn<F, T>(
    scheduler: &Arc<T>,
    here: Option<Writer>,
    mode: SpawnMode,
    future: F,
    locals: Locals,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    T: Flavour,
{
    let common = scheduler.common();
    let writer = here.unwrap_or(Writer::Remote);
    if mode == SpawnMode::Eager && common.config.eager && here.is_some() {
        let backlog = || scheduler.remote_backlog();
        if let Some(_depth) = DepthGuard::try_enter(common.config.eager_depth, backlog) {
            let (handle, completed) = task::spawn_eager(future, scheduler, locals);
            if completed {
                common.metrics.inc(writer, |s| &s.eager_completed);
            } else {
                common.metrics.inc(writer, |s| &s.promoted);
            }
            return handle;
        }
    }
    common.metrics.inc(writer, |s| &s.spawned_lazy);
    task::spawn_lazy(future, scheduler, locals)
}

/// One level of eager-spawn nesting on this thread while alive.
struct DepthGuard(());

impl DepthGuard {
    /// Enters one more level if the depth stays within `limit` and, when
    /// already nested, `backlog` says no remote work waits; counts one
    /// eager poll. A refusal for backlog marks the remote queue due.
    #[inline]
    fn try_enter(limit: u32, backlog: impl FnOnce() -> bool) -> Option<DepthGuard> {
        context::with(|c| {
            let mut count = c.eager.get();
            if count.depth >= limit {
                return None;
            }
            if count.depth > 0 && backlog() {
                count.remote_due = true;
                c.eager.set(count);
                return None;
            }
            count.depth += 1;
            count.polls = count.polls.wrapping_add(1);
            c.eager.set(count);
            Some(DepthGuard(()))
        })
        .flatten()
    }
}

impl Drop for DepthGuard {
    #[inline]
    fn drop(&mut self) {
        let release = context::with(|c| {
            let mut count = c.eager.get();
            count.depth -= 1;
            let release = count.depth == 0 && count.held;
            if release {
                count.held = false;
            }
            c.eager.set(count);
            release
        });
        if release == Some(true) {
            crate::flavors::release_held();
        }
    }
}

/// A scheduler tick's advance, from [`advance_tick`].
pub(crate) struct TickAdvance {
    /// The tick before.
    pub(crate) old: u32,
    /// The tick after.
    pub(crate) new: u32,
    /// A nested spawn since the last advance was queued for remote work
    /// (protocol step 6): take the remote queue now.
    pub(crate) remote_due: bool,
}

/// Advances a scheduler's tick by one poll plus every eager poll run on
/// this thread since the last advance. Fairness
/// intervals count work this way: with eager spawn one scheduler poll can
/// run a whole chain of nested tasks, and counting it as one tick starved
/// the remote queue (checked every `global_queue_interval` ticks) ~30-fold.
pub(crate) fn advance_tick(tick: &mut u32) -> TickAdvance {
    let (eager, remote_due) = context::with(|c| {
        let mut state = c.eager.get();
        let polls = std::mem::take(&mut state.polls);
        let remote_due = std::mem::take(&mut state.remote_due);
        c.eager.set(state);
        (polls, remote_due)
    })
    .unwrap_or((0, false));
    let old = *tick;
    *tick = old.wrapping_add(1).wrapping_add(eager);
    TickAdvance {
        old,
        new: *tick,
        remote_due,
    }
}

/// Whether a tick advance from `old` to `new` passed a multiple of
/// `interval` (so the work due every `interval` ticks is due now).
pub(crate) fn crossed(old: u32, new: u32, interval: u32) -> bool {
    new < old || old / interval != new / interval
}
