//! The scheduler crate's public face: [`Scheduler`] (owns one
//! current-thread or multi-thread scheduler) and [`Handle`] (a cheap,
//! cloneable, thread-safe reference to it). Both delegate to `flavors/`,
//! the one place that dispatches between the flavours; every spawn goes
//! through `eager.rs`.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::config::Config;
use crate::eager::SpawnMode;
use crate::flavors::{self, Owned, Shared};
use crate::locals::Locals;
use crate::metrics::MetricsSnapshot;
use crate::park::Driver;
use crate::task::JoinHandle;

/// The two scheduler flavours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Every task runs on the thread inside `block_on`.
    CurrentThread,
    /// Tasks run on a pool of work-stealing worker threads.
    MultiThread,
}

/// Owns a scheduler; dropping it shuts the scheduler down.
pub struct Scheduler {
    owned: Owned,
}

/// A reference to a scheduler, usable from any thread.
#[derive(Clone)]
pub struct Handle {
    shared: Shared,
}

/// Message of the panic raised by a nested `block_on`.
pub const NESTED_BLOCK_ON: &str = "cannot call `block_on` from a keen runtime thread (a worker, \
     or inside another `block_on`): it would block the thread that drives the tasks. \
     Use `.await` instead, or move the blocking call into `spawn_blocking`";

/// Panics with [`NESTED_BLOCK_ON`] on a thread that runs a scheduler.
#[track_caller]
fn refuse_nested_block_on() {
    if flavors::is_inside_runtime() {
        panic!("{NESTED_BLOCK_ON}");
    }
}

impl Scheduler {
    /// A current-thread scheduler parking on `driver`.
    pub fn new_current_thread(config: Config, driver: Box<dyn Driver>) -> Scheduler {
        Scheduler {
            owned: Owned::new(false, config, driver),
        }
    }

    /// A multi-thread scheduler; its workers start with [`launch`](Self::launch).
    pub fn new_multi_thread(config: Config, driver: Box<dyn Driver>) -> Scheduler {
        Scheduler {
            owned: Owned::new(true, config, driver),
        }
    }

    /// Starts the worker threads (nothing to do for current-thread).
    pub fn launch(&self) -> std::io::Result<()> {
        self.owned.launch()
    }

    /// A handle to this scheduler.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.owned.shared(),
        }
    }

    /// Runs `future` to completion on this thread.
    ///
    /// # Panics
    /// On a thread that already runs a keen scheduler (see [`NESTED_BLOCK_ON`]).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle().block_on(future)
    }

    /// Shuts down: stops workers (waiting up to `timeout` for them), drops
    /// every task's future once, then shuts the driver down. Idempotent.
    pub fn shutdown(&self, timeout: Option<Duration>) {
        self.owned.shutdown(timeout);
    }
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("flavor", &self.handle().flavor())
            .finish()
    }
}

impl Handle {
    /// Which flavour of scheduler this is.
    pub fn flavor(&self) -> Flavor {
        if self.shared.is_multi_thread() {
            Flavor::MultiThread
        } else {
            Flavor::CurrentThread
        }
    }

    /// Whether the calling thread is one of this scheduler's runtime
    /// threads right now, where `spawn` may be eager: a worker, or the
    /// thread inside its `block_on` (on both flavours).
    pub fn is_runtime_thread(&self) -> bool {
        self.shared.runtime_thread().is_some()
    }

    /// Spawns `future` with `locals` as its task-locals, started as `mode`
    /// says (see `eager.rs` for when an eager spawn polls in place).
    #[inline]
    pub fn spawn<F>(&self, mode: SpawnMode, future: F, locals: Locals) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(mode, future, locals)
    }

    /// Spawns a `!Send` future on a current-thread scheduler, from the
    /// thread that drives it. Eager like [`spawn`](Self::spawn) in
    /// [`SpawnMode::Eager`].
    ///
    /// # Panics
    /// On a multi-thread scheduler, or off the driving thread.
    pub fn spawn_local<F>(&self, future: F, locals: Locals) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.shared.claim_local_spawn();
        self.shared.spawn(SpawnMode::Eager, future, locals)
    }

    /// Runs `future` to completion on this thread: drives the tasks of a
    /// current-thread scheduler (waiting for the core if another thread
    /// drives it), or parks while a multi-thread scheduler's workers run.
    ///
    /// # Panics
    /// On a thread that already runs a keen scheduler (see [`NESTED_BLOCK_ON`]).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        refuse_nested_block_on();
        self.shared.block_on(future)
    }

    /// A copy of the scheduler's counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.shared.common().metrics()
    }

    /// Number of worker threads (1 for current-thread).
    pub fn num_workers(&self) -> usize {
        self.shared.num_workers()
    }

    /// An identity of the scheduler (its address), for
    /// [`with_runtime_thread`](crate::with_runtime_thread).
    pub fn scheduler_id(&self) -> usize {
        self.shared.id()
    }

    /// Whether both handles refer to the same scheduler.
    pub fn ptr_eq(&self, other: &Handle) -> bool {
        self.scheduler_id() == other.scheduler_id()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("flavor", &self.flavor())
            .finish()
    }
}
