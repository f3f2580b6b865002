//! Scheduler settings, filled in by the `keen` crate's `Builder`.

use std::fmt;
use std::sync::Arc;

/// What happens when a task panics and no `JoinHandle` will ever see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnhandledPanic {
    /// Print the task id and panic message to stderr, keep running (default).
    #[default]
    Print,
    /// Do nothing beyond what the panic hook already printed.
    Ignore,
    /// Shut the runtime down: `block_on` panics and no further task runs.
    ShutdownRuntime,
}

/// A hook run on every runtime thread.
pub type ThreadHook = Arc<dyn Fn() + Send + Sync + 'static>;

/// Scheduler configuration.
#[derive(Clone)]
pub struct Config {
    /// Whether `spawn` polls the new task in place (the eager path).
    pub eager: bool,
    /// How many eager spawns may nest on one thread before `spawn` falls
    /// back to queueing (bounds stack use of deep spawn chains).
    pub eager_depth: u32,
    /// Policy for panics no join handle will observe.
    pub unhandled_panic: UnhandledPanic,
    /// Tasks run between two checks of the driver (timers, I/O).
    pub event_interval: u32,
    /// Ticks between two checks of the shared queue before the local one.
    pub global_queue_interval: u32,
    /// Number of worker threads (multi-thread scheduler).
    pub worker_threads: usize,
    /// Names worker threads.
    pub thread_name: Arc<dyn Fn() -> String + Send + Sync + 'static>,
    /// Stack size of worker threads; `None` = the platform's default.
    pub thread_stack_size: Option<usize>,
    /// Run first on every worker thread.
    pub on_thread_start: Option<ThreadHook>,
    /// Run last on every worker thread.
    pub on_thread_stop: Option<ThreadHook>,
}

/// Default eager nesting limit. Measured (see `docs/eager.md`): one eager
/// level of a small nested-spawn future costs 592 bytes of stack in a
/// release build and 2,704 in a debug build, and a 10,000-deep chain runs
/// equally fast with limits from 1 to 1,024. The limit therefore only bounds
/// stack use: 32 levels take ~19 KiB (release) to ~86 KiB (debug) of a
/// 2 MiB thread stack, leaving room for futures with far larger frames.
pub const DEFAULT_EAGER_DEPTH: u32 = 32;

impl Default for Config {
    fn default() -> Self {
        Config {
            eager: true,
            eager_depth: DEFAULT_EAGER_DEPTH,
            unhandled_panic: UnhandledPanic::default(),
            event_interval: 61,
            global_queue_interval: 31,
            worker_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            thread_name: Arc::new(|| "keen-worker".to_owned()),
            thread_stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("eager", &self.eager)
            .field("eager_depth", &self.eager_depth)
            .field("unhandled_panic", &self.unhandled_panic)
            .field("event_interval", &self.event_interval)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("worker_threads", &self.worker_threads)
            .field("thread_stack_size", &self.thread_stack_size)
            .finish_non_exhaustive()
    }
}
