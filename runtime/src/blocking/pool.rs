//! The blocking thread pool: a FIFO job queue served by up to `max_threads`
//! OS threads that are started on demand and retire after `keep_alive` idle.
//!
//! Owns [`BlockingPool`] (the owner's handle, which shuts the pool down),
//! [`BlockingSpawner`] (the cloneable handle that queues jobs),
//! [`BlockingConfig`], [`SpawnError`] and the thread-local marker behind
//! [`is_blocking_thread`].
//!
//! # How it works
//!
//! All bookkeeping sits in one `parking_lot::Mutex<State>`:
//!
//! - `spawn` pushes the job to the back of the queue, then either hands a
//!   wake-up token to one idle thread (`num_idle -= 1; num_notify += 1;
//!   notify_one()`), or starts a new thread if fewer than `max_threads`
//!   exist, or leaves the job queued for the next thread that finishes.
//! - A worker pops jobs from the front until the queue is empty, then goes
//!   idle (`num_idle += 1`) and waits on the work condvar until a fixed
//!   deadline `keep_alive` from then. On waking it first takes a token if
//!   there is one (the spawner already uncounted it from `num_idle`); without
//!   a token it leaves the idle state by itself on shutdown, on a non-empty
//!   queue, or once the deadline has passed (it retires). Any other wake-up
//!   (spurious, or a token another waker took first) goes back to waiting
//!   until the same deadline, so it is never mistaken for a timeout.
//! - Each thread's `JoinHandle` is in `workers`, keyed by a worker id; the
//!   spawner inserts it while still holding the lock, so the thread cannot
//!   look for it before it is there. A thread that leaves its loop moves its
//!   own handle to `retired`; finished retired handles are dropped (the
//!   thread has already ended, so nothing leaks) whenever a new thread
//!   starts, and the rest are joined at shutdown.
//! - `alive` counts threads that have not yet finished their exit path
//!   (including `on_thread_stop`); shutdown waits on the exit condvar for it
//!   to reach zero, since `JoinHandle` has no join-with-timeout, and joins
//!   the handles only once it has.
//!
//! The lock is never held while a job, a hook or a job's destructor runs.
//! `thread_name` is the exception: it is called under the lock while a thread
//! is started, so it must not call into the pool.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::context;

/// A unit of work for the pool: a boxed closure, run at most once.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// Produces the name of each new pool thread.
type NameFn = Arc<dyn Fn() -> String + Send + Sync>;

/// A hook run on a pool thread when it starts or stops.
type HookFn = Arc<dyn Fn() + Send + Sync>;

/// Default for [`BlockingConfig::max_threads`].
const DEFAULT_MAX_THREADS: usize = 512;

/// Default for [`BlockingConfig::keep_alive`].
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Default thread name.
const DEFAULT_THREAD_NAME: &str = "keen-blocking";

/// Source of [`Shared::id`]: every pool in the process gets its own id.
static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

// Each pool thread records its pool's [`Shared::id`] in the crate's thread
// context once, before `on_thread_start` (`context::set_blocking_pool`).

/// Whether the current thread is a thread of some blocking pool (any pool).
#[cfg(test)]
pub(crate) fn is_blocking_thread() -> bool {
    context::blocking_pool().is_some()
}

/// Whether the current thread is a thread of the pool with id `pool`.
fn is_thread_of(pool: u64) -> bool {
    context::blocking_pool() == Some(pool)
}

/// How a [`BlockingPool`] sizes, names and hooks its threads.
#[derive(Clone)]
pub(crate) struct BlockingConfig {
    /// Most threads the pool runs at once (default 512). `0` is taken as `1`.
    pub(crate) max_threads: usize,
    /// How long a thread waits idle for work before it exits (default 10 s).
    pub(crate) keep_alive: Duration,
    /// Names each new thread (default: `"keen-blocking"`). Called while the
    /// pool's lock is held: it must not call into the pool.
    pub(crate) thread_name: NameFn,
    /// Stack size of each new thread; `None` keeps std's default.
    pub(crate) thread_stack_size: Option<usize>,
    /// Run on each new thread before it takes its first job.
    pub(crate) on_thread_start: Option<HookFn>,
    /// Run on each thread as it exits, after its last job.
    pub(crate) on_thread_stop: Option<HookFn>,
}

impl Default for BlockingConfig {
    fn default() -> Self {
        BlockingConfig {
            max_threads: DEFAULT_MAX_THREADS,
            keep_alive: DEFAULT_KEEP_ALIVE,
            thread_name: Arc::new(|| DEFAULT_THREAD_NAME.to_owned()),
            thread_stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
        }
    }
}

impl fmt::Debug for BlockingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingConfig")
            .field("max_threads", &self.max_threads)
            .field("keep_alive", &self.keep_alive)
            .field("thread_name", &"<fn>")
            .field("thread_stack_size", &self.thread_stack_size)
            .field(
                "on_thread_start",
                &self.on_thread_start.as_ref().map(|_| "<fn>"),
            )
            .field(
                "on_thread_stop",
                &self.on_thread_stop.as_ref().map(|_| "<fn>"),
            )
            .finish()
    }
}

/// Why [`BlockingSpawner::spawn`] did not queue a job. Either way the job was
/// not run and is handed back: [`SpawnError::into_job`] recovers it, and
/// dropping the error drops it.
#[allow(
    dead_code,
    reason = "the job is only ever dropped with the error outside tests; dropping it is the point (a dropped blocking task is cancelled)"
)]
pub(crate) enum SpawnError {
    /// The pool has been shut down; it runs nothing new.
    Shutdown(Job),
    /// The pool had no thread and could not start one.
    NoThreads {
        /// Why the OS refused the thread.
        error: io::Error,
        /// The job that was not queued.
        job: Job,
    },
}

impl SpawnError {
    /// Gives back the job that was not queued.
    #[cfg(test)]
    pub(crate) fn into_job(self) -> Job {
        match self {
            SpawnError::Shutdown(job) | SpawnError::NoThreads { job, .. } => job,
        }
    }

    /// Whether the spawn failed because the pool is shut down.
    #[cfg(test)]
    pub(crate) fn is_shutdown(&self) -> bool {
        matches!(self, SpawnError::Shutdown(_))
    }
}

impl fmt::Debug for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Shutdown(_) => f.write_str("Shutdown(..)"),
            SpawnError::NoThreads { error, .. } => f
                .debug_struct("NoThreads")
                .field("error", error)
                .finish_non_exhaustive(),
        }
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Shutdown(_) => f.write_str("the blocking pool is shut down"),
            SpawnError::NoThreads { error, .. } => {
                write!(f, "the blocking pool could not start a thread: {error}")
            }
        }
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SpawnError::Shutdown(_) => None,
            SpawnError::NoThreads { error, .. } => Some(error),
        }
    }
}

/// The pool's bookkeeping, all under [`Shared::state`].
struct State {
    /// Jobs not yet started, oldest first.
    queue: VecDeque<Job>,
    /// Set once by [`BlockingPool::shutdown`]; no job starts after it.
    shutdown: bool,
    /// Threads started and not yet decided to exit (what `max_threads` caps).
    num_threads: usize,
    /// Idle threads that no spawn has claimed with a wake-up token.
    num_idle: usize,
    /// Wake-up tokens handed out by `spawn` and not yet taken by a thread.
    num_notify: usize,
    /// Threads that have not finished their exit path, `on_thread_stop`
    /// included; shutdown waits for this to reach zero.
    alive: usize,
    /// Id for the next thread started.
    next_worker: usize,
    /// Handles of threads still in their work loop, by worker id.
    workers: HashMap<usize, JoinHandle<()>>,
    /// Handles of threads that left their work loop; joined at shutdown,
    /// dropped earlier once finished.
    retired: Vec<JoinHandle<()>>,
}

/// What the pool, its spawners and its threads share.
struct Shared {
    /// Distinguishes this pool's threads from other pools' (in the thread
    /// context's `blocking_pool`).
    id: u64,
    /// The bookkeeping.
    state: Mutex<State>,
    /// Idle workers wait here for work, shutdown or their keep-alive.
    work_cv: Condvar,
    /// Shutdown waits here for `alive` to fall.
    exit_cv: Condvar,
    /// At least 1.
    max_threads: usize,
    keep_alive: Duration,
    thread_name: NameFn,
    thread_stack_size: Option<usize>,
    on_thread_start: Option<HookFn>,
    on_thread_stop: Option<HookFn>,
}

/// A pool of threads for closures that block. One per runtime; every part of
/// that runtime spawns through [`BlockingSpawner`]s taken from it.
///
/// Dropping the pool without calling [`BlockingPool::shutdown`] shuts it down
/// and waits for running jobs without a time limit.
pub(crate) struct BlockingPool {
    shared: Arc<Shared>,
    /// What the first `shutdown` returned; later calls return it again.
    shut_down: Option<bool>,
}

/// A cheap, cloneable handle that queues jobs on a [`BlockingPool`]. Outliving
/// the pool is fine: spawns then fail with [`SpawnError::Shutdown`].
#[derive(Clone)]
pub(crate) struct BlockingSpawner {
    shared: Arc<Shared>,
}

impl BlockingPool {
    /// Creates a pool with no threads; they start as jobs arrive.
    pub(crate) fn new(config: BlockingConfig) -> BlockingPool {
        let shared = Shared {
            id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                shutdown: false,
                num_threads: 0,
                num_idle: 0,
                num_notify: 0,
                alive: 0,
                next_worker: 0,
                workers: HashMap::new(),
                retired: Vec::new(),
            }),
            work_cv: Condvar::new(),
            exit_cv: Condvar::new(),
            max_threads: config.max_threads.max(1),
            keep_alive: config.keep_alive,
            thread_name: config.thread_name,
            thread_stack_size: config.thread_stack_size,
            on_thread_start: config.on_thread_start,
            on_thread_stop: config.on_thread_stop,
        };
        BlockingPool {
            shared: Arc::new(shared),
            shut_down: None,
        }
    }

    /// A handle that queues jobs on this pool.
    pub(crate) fn spawner(&self) -> BlockingSpawner {
        BlockingSpawner {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Threads started and not yet retiring.
    #[cfg(test)]
    pub(crate) fn num_threads(&self) -> usize {
        self.shared.state.lock().num_threads
    }

    /// Threads waiting for work.
    #[cfg(test)]
    pub(crate) fn num_idle_threads(&self) -> usize {
        self.shared.num_idle_threads()
    }

    /// Jobs queued and not yet started.
    #[cfg(test)]
    pub(crate) fn queue_depth(&self) -> usize {
        self.shared.state.lock().queue.len()
    }

    /// Shuts the pool down: no job starts from now on, jobs still queued are
    /// dropped (on this thread, without running), idle threads exit, and
    /// running jobs are waited for, up to `timeout` (`None`: no limit).
    ///
    /// Returns whether every thread finished in time; those threads have
    /// then been joined. On a timeout the remaining threads are detached and
    /// exit on their own once their jobs return.
    ///
    /// Called on one of this pool's own threads (a job dropping its runtime),
    /// it waits for the other threads only and never joins its own.
    ///
    /// Only the first call does anything; later calls return its result at
    /// once, whatever their `timeout`.
    pub(crate) fn shutdown(&mut self, timeout: Option<Duration>) -> bool {
        if let Some(finished) = self.shut_down {
            return finished;
        }
        let finished = self.shared.shutdown(timeout);
        self.shut_down = Some(finished);
        finished
    }
}

impl Drop for BlockingPool {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPool")
            .field("id", &self.shared.id)
            .field("max_threads", &self.shared.max_threads)
            .field("keep_alive", &self.shared.keep_alive)
            .field("shut_down", &self.shut_down)
            .finish_non_exhaustive()
    }
}

impl BlockingSpawner {
    /// Queues `job` to run on a pool thread, in FIFO order with other jobs.
    ///
    /// Wakes one idle thread if there is one, else starts a thread if fewer
    /// than `max_threads` exist, else leaves the job queued until a thread is
    /// free. Fails, giving the job back unrun, if the pool is shut down, or
    /// if it has no thread at all and the OS refuses to start one (if some
    /// thread exists, the job just waits for it).
    pub(crate) fn spawn(&self, job: Job) -> Result<(), SpawnError> {
        let shared = &self.shared;
        let mut state = shared.state.lock();
        if state.shutdown {
            return Err(SpawnError::Shutdown(job));
        }
        state.queue.push_back(job);

        if state.num_idle > 0 {
            state.num_idle -= 1;
            state.num_notify += 1;
            shared.work_cv.notify_one();
            return Ok(());
        }
        if state.num_threads >= shared.max_threads {
            return Ok(());
        }

        match shared.start_thread(&mut state) {
            Ok(()) => {
                // Retired threads that have ended need their handles no more.
                state.retired.retain(|handle| !handle.is_finished());
                Ok(())
            }
            // Busy threads exist and will reach the job.
            Err(_) if state.num_threads > 0 => Ok(()),
            Err(error) => {
                // With no thread the queue was empty before our push (threads
                // only retire on an empty queue), so ours is the last job.
                let job = state.queue.pop_back().expect("the job was just queued");
                Err(SpawnError::NoThreads { error, job })
            }
        }
    }

    /// Threads started and not yet retiring.
    pub(crate) fn num_threads(&self) -> usize {
        self.shared.state.lock().num_threads
    }
}

impl fmt::Debug for BlockingSpawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingSpawner")
            .field("pool", &self.shared.id)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// [`BlockingPool::shutdown`]'s first and only run.
    fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let unstarted = {
            let mut state = self.state.lock();
            state.shutdown = true;
            self.work_cv.notify_all();
            std::mem::take(&mut state.queue)
        };
        // Outside the lock: a job's captures may do anything when dropped,
        // even spawn (which now fails).
        for job in unstarted {
            run_guarded(move || drop(job));
        }

        let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        // The calling thread, if it is one of ours (a job dropping its runtime),
        // is still counted in `alive` and cannot finish while it waits here.
        let others_done = usize::from(is_thread_of(self.id));
        let mut state = self.state.lock();
        let mut finished = true;
        while state.alive > others_done {
            match deadline {
                Some(deadline) => {
                    if self.exit_cv.wait_until(&mut state, deadline).timed_out() {
                        finished = state.alive <= others_done;
                        break;
                    }
                }
                None => self.exit_cv.wait(&mut state),
            }
        }
        let me = thread::current().id();
        let handles: Vec<JoinHandle<()>> = {
            let state = &mut *state;
            state
                .workers
                .drain()
                .map(|(_, handle)| handle)
                .chain(state.retired.drain(..))
                // Never join ourselves (a job, or a stop hook, shutting down).
                .filter(|handle| handle.thread().id() != me)
                .collect()
        };
        drop(state);

        if finished {
            for handle in handles {
                // Every job ran under `catch_unwind`; nothing left to report.
                let _ = handle.join();
            }
        }
        // On a timeout, dropping the handles detaches the threads.
        finished
    }

    /// Idle threads, counting those woken for work that have not yet taken
    /// it as busy.
    #[cfg(test)]
    fn num_idle_threads(&self) -> usize {
        self.state.lock().num_idle
    }

    /// Starts one worker thread and records it. Called with the lock held,
    /// so the new thread cannot look for its handle before it is inserted.
    fn start_thread(self: &Arc<Self>, state: &mut State) -> io::Result<()> {
        let worker = state.next_worker;
        let mut builder = thread::Builder::new().name((self.thread_name)());
        if let Some(size) = self.thread_stack_size {
            builder = builder.stack_size(size);
        }
        let shared = Arc::clone(self);
        let handle = builder.spawn(move || shared.worker_main(worker))?;
        state.next_worker += 1;
        state.workers.insert(worker, handle);
        state.num_threads += 1;
        state.alive += 1;
        Ok(())
    }

    /// A worker thread's whole life.
    fn worker_main(&self, worker: usize) {
        context::set_blocking_pool(self.id);
        if let Some(hook) = &self.on_thread_start {
            run_guarded(|| hook());
        }

        self.work_loop(worker);

        if let Some(hook) = &self.on_thread_stop {
            run_guarded(|| hook());
        }
        let mut state = self.state.lock();
        state.alive -= 1;
        self.exit_cv.notify_all();
    }

    /// Runs jobs until shutdown or until `keep_alive` passes without work,
    /// then uncounts the thread from `num_threads` and retires its handle.
    fn work_loop(&self, worker: usize) {
        let mut state = self.state.lock();
        'busy: loop {
            // BUSY: run queued jobs, oldest first.
            while !state.shutdown {
                let Some(job) = state.queue.pop_front() else {
                    break;
                };
                MutexGuard::unlocked(&mut state, || run_guarded(job));
            }
            if state.shutdown {
                break 'busy;
            }

            // IDLE: wait for a token, shutdown or the keep-alive deadline.
            state.num_idle += 1;
            let deadline = Instant::now().checked_add(self.keep_alive);
            loop {
                let timed_out = match deadline {
                    Some(deadline) => self.work_cv.wait_until(&mut state, deadline).timed_out(),
                    None => {
                        self.work_cv.wait(&mut state);
                        false
                    }
                };
                if state.num_notify > 0 {
                    // A spawn claimed an idle thread and already took it off
                    // `num_idle`; whichever idle thread wakes first serves it.
                    state.num_notify -= 1;
                    continue 'busy;
                }
                if state.shutdown {
                    state.num_idle -= 1;
                    break 'busy;
                }
                if !state.queue.is_empty() {
                    // Not expected (a queued job always comes with a token or
                    // finds no idle thread), but never sleep on queued work.
                    state.num_idle -= 1;
                    continue 'busy;
                }
                if timed_out || deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                    state.num_idle -= 1;
                    break 'busy;
                }
                // A spurious wake-up, or a token another thread took first:
                // still idle and counted, wait out the rest of the keep-alive.
            }
        }

        state.num_threads -= 1;
        if let Some(handle) = state.workers.remove(&worker) {
            state.retired.push(handle);
        }
    }
}

/// Runs `f`, containing any panic so the pool's bookkeeping survives it. The
/// panic hook has already reported the panic; a panic while dropping the
/// payload is contained too, and that payload leaked.
fn run_guarded(f: impl FnOnce()) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(f)) {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::{AtomicBool, AtomicUsize};
    use std::sync::mpsc;

    /// Upper bound for anything a test waits for; only reached on a bug.
    const LIMIT: Duration = Duration::from_secs(10);

    fn config(max_threads: usize) -> BlockingConfig {
        BlockingConfig {
            max_threads,
            ..BlockingConfig::default()
        }
    }

    /// A gate jobs block on until the test opens it.
    #[derive(Default)]
    struct Gate {
        open: Mutex<bool>,
        cv: Condvar,
    }

    impl Gate {
        fn open(&self) {
            *self.open.lock() = true;
            self.cv.notify_all();
        }

        fn wait(&self) {
            let mut open = self.open.lock();
            let deadline = Instant::now() + LIMIT;
            while !*open {
                assert!(
                    !self.cv.wait_until(&mut open, deadline).timed_out(),
                    "gate never opened"
                );
            }
        }
    }

    /// Counts its drops.
    struct DropCounter(Arc<AtomicUsize>);

    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Polls `cond` until it holds, failing the test after [`LIMIT`].
    fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + LIMIT;
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Starts a job that holds its thread until the returned gate opens,
    /// and returns once it is running; the flag turns true when it ends.
    fn start_gated_job(spawner: &BlockingSpawner) -> (Arc<Gate>, Arc<AtomicBool>) {
        let gate = Arc::new(Gate::default());
        let finished = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = mpsc::channel();
        let (g, f) = (Arc::clone(&gate), Arc::clone(&finished));
        spawn(spawner, move || {
            started_tx.send(()).unwrap();
            g.wait();
            f.store(true, Ordering::SeqCst);
        });
        started_rx.recv_timeout(LIMIT).unwrap();
        (gate, finished)
    }

    fn spawn(spawner: &BlockingSpawner, f: impl FnOnce() + Send + 'static) {
        spawner.spawn(Box::new(f)).expect("spawn failed");
    }

    #[test]
    fn jobs_run() {
        let pool = BlockingPool::new(config(4));
        let spawner = pool.spawner();
        let (tx, rx) = mpsc::channel();
        for i in 0..100 {
            let tx = tx.clone();
            spawn(&spawner, move || tx.send(i).unwrap());
        }
        let mut got: Vec<i32> = (0..100).map(|_| rx.recv_timeout(LIMIT).unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        assert!(pool.num_threads() <= 4);
    }

    #[test]
    fn fifo_on_a_single_thread() {
        let pool = BlockingPool::new(config(1));
        let spawner = pool.spawner();
        let (gate, _) = start_gated_job(&spawner);

        let order = Arc::new(Mutex::new(Vec::new()));
        let (done_tx, done_rx) = mpsc::channel();
        for i in 0..10 {
            let order = Arc::clone(&order);
            let done_tx = done_tx.clone();
            spawn(&spawner, move || {
                order.lock().push(i);
                done_tx.send(()).unwrap();
            });
        }
        assert_eq!(pool.queue_depth(), 10);
        assert_eq!(pool.num_threads(), 1);
        gate.open();
        for _ in 0..10 {
            done_rx.recv_timeout(LIMIT).unwrap();
        }
        assert_eq!(*order.lock(), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn max_threads_is_respected() {
        let pool = BlockingPool::new(config(2));
        let spawner = pool.spawner();
        let gate = Arc::new(Gate::default());
        let running = Arc::new(AtomicUsize::new(0));
        let high_water = Arc::new(AtomicUsize::new(0));
        let (entered_tx, entered_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        for _ in 0..4 {
            let (gate, running, high_water) = (gate.clone(), running.clone(), high_water.clone());
            let (entered_tx, done_tx) = (entered_tx.clone(), done_tx.clone());
            spawn(&spawner, move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                high_water.fetch_max(now, Ordering::SeqCst);
                entered_tx.send(()).unwrap();
                gate.wait();
                running.fetch_sub(1, Ordering::SeqCst);
                done_tx.send(()).unwrap();
            });
        }
        // Two jobs hold both threads; the other two must wait in the queue.
        entered_rx.recv_timeout(LIMIT).unwrap();
        entered_rx.recv_timeout(LIMIT).unwrap();
        assert_eq!(pool.num_threads(), 2);
        assert_eq!(pool.queue_depth(), 2);
        assert_eq!(running.load(Ordering::SeqCst), 2);

        gate.open();
        for _ in 0..4 {
            done_rx.recv_timeout(LIMIT).unwrap();
        }
        assert_eq!(high_water.load(Ordering::SeqCst), 2);
        assert!(pool.num_threads() <= 2);
    }

    #[test]
    fn idle_thread_is_reused() {
        let pool = BlockingPool::new(config(8));
        let spawner = pool.spawner();
        let (tx, rx) = mpsc::channel();
        for _ in 0..5 {
            let tx = tx.clone();
            spawn(&spawner, move || tx.send(()).unwrap());
            rx.recv_timeout(LIMIT).unwrap();
            // Wait until the thread is idle again, so the next spawn finds it.
            eventually("the thread to go idle", || pool.num_idle_threads() == 1);
            assert_eq!(pool.num_threads(), 1);
        }
        assert_eq!(pool.num_threads(), 1);
    }

    #[test]
    fn panicking_job_does_not_kill_the_pool() {
        let pool = BlockingPool::new(config(1));
        let spawner = pool.spawner();
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        spawn(&spawner, move || {
            tx2.send(thread::current().id()).unwrap();
            panic!("boom (expected by the test)");
        });
        spawn(&spawner, move || tx.send(thread::current().id()).unwrap());
        let first = rx.recv_timeout(LIMIT).unwrap();
        let second = rx.recv_timeout(LIMIT).unwrap();
        assert_eq!(first, second, "the same thread kept serving");
        assert_eq!(pool.num_threads(), 1);
    }

    #[test]
    fn idle_threads_retire() {
        let stops = Arc::new(AtomicUsize::new(0));
        let s = Arc::clone(&stops);
        let pool = BlockingPool::new(BlockingConfig {
            max_threads: 4,
            keep_alive: Duration::from_millis(50),
            on_thread_stop: Some(Arc::new(move || {
                s.fetch_add(1, Ordering::SeqCst);
            })),
            ..BlockingConfig::default()
        });
        let spawner = pool.spawner();
        let gate = Arc::new(Gate::default());
        let (tx, rx) = mpsc::channel();
        for _ in 0..3 {
            let (gate, tx) = (gate.clone(), tx.clone());
            spawn(&spawner, move || {
                tx.send(()).unwrap();
                gate.wait();
            });
        }
        for _ in 0..3 {
            rx.recv_timeout(LIMIT).unwrap();
        }
        assert_eq!(pool.num_threads(), 3);
        gate.open();
        eventually("every thread to retire", || pool.num_threads() == 0);
        eventually("every stop hook", || stops.load(Ordering::SeqCst) == 3);
        assert_eq!(pool.num_idle_threads(), 0);

        // The pool still works afterwards, with fresh threads.
        spawn(&spawner, move || tx.send(()).unwrap());
        rx.recv_timeout(LIMIT).unwrap();
    }

    #[test]
    fn shutdown_drops_queued_jobs_and_waits_for_running_ones() {
        let mut pool = BlockingPool::new(config(1));
        let spawner = pool.spawner();
        let (gate, finished) = start_gated_job(&spawner);

        // Two jobs queue behind the running one. The first one's drop (which
        // only shutdown does) lets the running job finish, so shutdown is
        // already waiting when it does.
        let drops = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicUsize::new(0));
        let (dropped_tx, dropped_rx) = mpsc::channel::<()>();
        let opener = {
            let gate = Arc::clone(&gate);
            thread::spawn(move || {
                let _ = dropped_rx.recv_timeout(LIMIT);
                gate.open();
            })
        };
        for _ in 0..2 {
            let counter = DropCounter(Arc::clone(&drops));
            let ran = Arc::clone(&ran);
            let dropped_tx = dropped_tx.clone();
            spawn(&spawner, move || {
                let _keep = (&counter, &dropped_tx);
                ran.fetch_add(1, Ordering::SeqCst);
            });
        }
        drop(dropped_tx);
        assert_eq!(pool.queue_depth(), 2);

        assert!(pool.shutdown(None));
        assert!(finished.load(Ordering::SeqCst), "the running job finished");
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert_eq!(pool.num_threads(), 0);
        opener.join().unwrap();
    }

    #[test]
    fn shutdown_respects_its_timeout() {
        let mut pool = BlockingPool::new(config(1));
        let spawner = pool.spawner();
        let (gate, _) = start_gated_job(&spawner);

        let begin = Instant::now();
        assert!(!pool.shutdown(Some(Duration::from_millis(50))));
        assert!(begin.elapsed() >= Duration::from_millis(50));
        // A second call does nothing and repeats the first result at once,
        // even without a limit.
        assert!(!pool.shutdown(None));

        // The detached thread still exits once its job returns.
        gate.open();
        eventually("the detached thread to exit", || spawner.num_threads() == 0);
    }

    #[test]
    fn spawn_after_shutdown_fails_and_gives_the_job_back() {
        let mut pool = BlockingPool::new(config(2));
        let spawner = pool.spawner();
        assert!(pool.shutdown(Some(LIMIT)));

        let ran = Arc::new(AtomicBool::new(false));
        let r = Arc::clone(&ran);
        let err = spawner
            .spawn(Box::new(move || r.store(true, Ordering::SeqCst)))
            .unwrap_err();
        assert!(err.is_shutdown());
        assert_eq!(err.to_string(), "the blocking pool is shut down");
        assert!(!ran.load(Ordering::SeqCst));
        (err.into_job())();
        assert!(ran.load(Ordering::SeqCst));

        // Also after the pool is dropped.
        drop(pool);
        assert!(spawner.spawn(Box::new(|| {})).unwrap_err().is_shutdown());
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn no_threads_error_gives_the_job_back() {
        // No OS can give a thread a 2^60-byte stack.
        let pool = BlockingPool::new(BlockingConfig {
            thread_stack_size: Some(1 << 60),
            ..BlockingConfig::default()
        });
        let err = pool.spawner().spawn(Box::new(|| {})).unwrap_err();
        assert!(matches!(err, SpawnError::NoThreads { .. }), "{err:?}");
        assert!(std::error::Error::source(&err).is_some());
        assert_eq!(pool.queue_depth(), 0);
        assert_eq!(pool.num_threads(), 0);
        drop(err.into_job());
    }

    #[test]
    fn hooks_names_and_thread_marker() {
        let starts = Arc::new(AtomicUsize::new(0));
        let stops = Arc::new(AtomicUsize::new(0));
        let (s1, s2) = (Arc::clone(&starts), Arc::clone(&stops));
        let mut pool = BlockingPool::new(BlockingConfig {
            max_threads: 1,
            thread_name: Arc::new(|| "test-blocking".to_owned()),
            thread_stack_size: Some(256 * 1024),
            on_thread_start: Some(Arc::new(move || {
                assert!(is_blocking_thread());
                s1.fetch_add(1, Ordering::SeqCst);
            })),
            on_thread_stop: Some(Arc::new(move || {
                s2.fetch_add(1, Ordering::SeqCst);
            })),
            ..BlockingConfig::default()
        });
        assert!(!is_blocking_thread());
        let (tx, rx) = mpsc::channel();
        spawn(&pool.spawner(), move || {
            let name = thread::current().name().map(str::to_owned);
            tx.send((name, is_blocking_thread())).unwrap();
        });
        let (name, marked) = rx.recv_timeout(LIMIT).unwrap();
        assert_eq!(name.as_deref(), Some("test-blocking"));
        assert!(marked);
        assert_eq!(starts.load(Ordering::SeqCst), 1);

        assert!(pool.shutdown(Some(LIMIT)));
        assert_eq!(starts.load(Ordering::SeqCst), 1);
        assert_eq!(
            stops.load(Ordering::SeqCst),
            1,
            "shutdown waits for the stop hook"
        );
    }

    #[test]
    fn dropping_the_pool_inside_its_own_job_does_not_deadlock() {
        let pool = BlockingPool::new(config(2));
        let spawner = pool.spawner();

        // Another job occupies the second thread until the gate opens; the
        // drop below must wait for it, but not for its own thread.
        let (gate, other_finished) = start_gated_job(&spawner);

        let (pool_tx, pool_rx) = mpsc::channel::<BlockingPool>();
        let (done_tx, done_rx) = mpsc::channel();
        let inner = spawner.clone();
        let f = Arc::clone(&other_finished);
        spawn(&spawner, move || {
            let pool = pool_rx.recv_timeout(LIMIT).unwrap();
            assert!(is_blocking_thread());
            drop(pool);
            // The pool is shut down although this thread is still running.
            let refused = inner.spawn(Box::new(|| {})).unwrap_err().is_shutdown();
            done_tx.send((refused, f.load(Ordering::SeqCst))).unwrap();
        });
        assert_eq!(spawner.num_threads(), 2);
        pool_tx.send(pool).unwrap();
        gate.open();
        let (refused, waited_for_other) = done_rx.recv_timeout(LIMIT).unwrap();
        assert!(refused);
        assert!(waited_for_other, "the drop waited for the other thread");
        eventually("the last thread to exit", || spawner.num_threads() == 0);
    }

    #[test]
    fn many_spawners_many_jobs() {
        let pool = BlockingPool::new(BlockingConfig {
            max_threads: 3,
            keep_alive: Duration::from_millis(1),
            ..BlockingConfig::default()
        });
        let count = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        let producers: Vec<_> = (0..4)
            .map(|_| {
                let (spawner, count, tx) = (pool.spawner(), count.clone(), tx.clone());
                thread::spawn(move || {
                    for _ in 0..250 {
                        let (count, tx) = (count.clone(), tx.clone());
                        spawn(&spawner, move || {
                            count.fetch_add(1, Ordering::SeqCst);
                            tx.send(()).unwrap();
                        });
                    }
                })
            })
            .collect();
        for producer in producers {
            producer.join().unwrap();
        }
        for _ in 0..1000 {
            rx.recv_timeout(LIMIT).unwrap();
        }
        assert_eq!(count.load(Ordering::SeqCst), 1000);
        assert!(pool.num_threads() <= 3);
        eventually("every thread to retire", || pool.num_threads() == 0);
        assert_eq!(pool.num_idle_threads(), 0);
    }

    #[test]
    fn debug_impls() {
        let pool = BlockingPool::new(BlockingConfig::default());
        assert!(format!("{:?}", BlockingConfig::default()).contains("max_threads: 512"));
        assert!(format!("{pool:?}").starts_with("BlockingPool"));
        assert!(format!("{:?}", pool.spawner()).starts_with("BlockingSpawner"));
    }
}
