//! [`Builder`]: every runtime setting, with tokio's names where tokio has one.

use std::fmt;
use std::io;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use keen_scheduler::{Config, Scheduler, UnhandledPanic};

use super::{Handle, Runtime};
use crate::blocking::{BlockingConfig, BlockingPool};
use crate::context;
use crate::io::IoDriver;
use crate::runtime::handle::HandleInner;
use crate::time::driver::TimeDriver;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CurrentThread,
    MultiThread,
}

type Hook = Arc<dyn Fn() + Send + Sync + 'static>;

/// Builds a [`Runtime`].
///
/// ```
/// use keen::runtime::Builder;
///
/// let rt = Builder::new_multi_thread()
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .eager_depth(16)
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { keen::spawn(async { 1 }).await.unwrap() }), 1);
/// ```
pub struct Builder {
    kind: Kind,
    config: Config,
    worker_threads: Option<usize>,
    max_blocking_threads: usize,
    keep_alive: Duration,
    thread_name: Arc<dyn Fn() -> String + Send + Sync + 'static>,
    thread_stack_size: Option<usize>,
    on_thread_start: Option<Hook>,
    on_thread_stop: Option<Hook>,
    start_paused: bool,
}

impl Builder {
    /// A runtime whose tasks all run on the thread inside `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder::new(Kind::CurrentThread)
    }

    /// A runtime with work-stealing worker threads (one per core unless
    /// [`worker_threads`](Self::worker_threads) says otherwise).
    pub fn new_multi_thread() -> Builder {
        Builder::new(Kind::MultiThread)
    }

    fn new(kind: Kind) -> Builder {
        Builder {
            kind,
            config: Config::default(),
            worker_threads: None,
            max_blocking_threads: 512,
            keep_alive: Duration::from_secs(10),
            thread_name: Arc::new(|| "keen-runtime-worker".to_owned()),
            thread_stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
            start_paused: false,
        }
    }

    /// Number of worker threads of a multi-thread runtime.
    ///
    /// # Panics
    /// If `n` is 0.
    ///
    /// ```
    /// let rt = keen::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// let (first, later) = rt.block_on(async {
    ///     // Eager: the first step runs here, inside `spawn`.
    ///     let first = rt.spawn(async { std::thread::current().id() });
    ///     // Queued: one of the 2 workers runs it.
    ///     let later = keen::spawn_lazy(async { std::thread::current().id() });
    ///     (first.await.unwrap(), later.await.unwrap())
    /// });
    /// assert_eq!(first, std::thread::current().id());
    /// assert_ne!(later, std::thread::current().id());
    /// ```
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "worker_threads must be at least 1");
        self.worker_threads = Some(n);
        self
    }

    /// Whether `spawn` polls a new task in place before returning (default
    /// `true`). With `false`, keen schedules like tokio.
    ///
    /// ```
    /// let rt = keen::runtime::Builder::new_current_thread().eager(false).build().unwrap();
    /// rt.block_on(async {
    ///     let child = keen::spawn(async { 1 });
    ///     assert!(!child.is_finished()); // queued, not polled in place
    ///     assert_eq!(child.await.unwrap(), 1);
    /// });
    /// ```
    pub fn eager(&mut self, eager: bool) -> &mut Self {
        self.config.eager = eager;
        self
    }

    /// How many eager spawns may nest on one thread before `spawn` queues
    /// instead (default [`keen_scheduler::config::DEFAULT_EAGER_DEPTH`]).
    ///
    /// ```
    /// let rt = keen::runtime::Builder::new_current_thread().eager_depth(0).build().unwrap();
    /// rt.block_on(async {
    ///     // Depth 0: even the first spawn is lazy.
    ///     assert!(!keen::spawn(async {}).is_finished());
    /// });
    /// ```
    pub fn eager_depth(&mut self, depth: u32) -> &mut Self {
        self.config.eager_depth = depth;
        self
    }

    /// Most threads the blocking pool may run at once (default 512).
    ///
    /// # Panics
    /// If `n` is 0.
    ///
    /// ```
    /// let rt = keen::runtime::Builder::new_current_thread().max_blocking_threads(1).build().unwrap();
    /// let out = rt.block_on(rt.spawn_blocking(|| 2 + 2)).unwrap();
    /// assert_eq!(out, 4);
    /// ```
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "max_blocking_threads must be at least 1");
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before it exits
    /// (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = keen::runtime::Builder::new_current_thread()
    ///     .thread_keep_alive(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(rt.spawn_blocking(|| 1)).unwrap(), 1);
    /// ```
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Self {
        self.keep_alive = keep_alive;
        self
    }

    /// Name of the runtime's threads.
    ///
    /// ```
    /// let rt = keen::runtime::Builder::new_multi_thread().thread_name("io-worker").build().unwrap();
    /// let name = rt.block_on(rt.spawn(async { std::thread::current().name().map(str::to_owned) }));
    /// assert_eq!(name.unwrap().as_deref(), Some("io-worker"));
    /// ```
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.thread_name = Arc::new(move || name.clone());
        self
    }

    /// A function naming the runtime's threads.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// static NEXT: AtomicUsize = AtomicUsize::new(0);
    /// let rt = keen::runtime::Builder::new_multi_thread()
    ///     .thread_name_fn(|| format!("worker-{}", NEXT.fetch_add(1, Ordering::Relaxed)))
    ///     .build()
    ///     .unwrap();
    /// let name = rt.block_on(rt.spawn(async { std::thread::current().name().unwrap().to_owned() }));
    /// assert!(name.unwrap().starts_with("worker-"));
    /// ```
    pub fn thread_name_fn(&mut self, f: impl Fn() -> String + Send + Sync + 'static) -> &mut Self {
        self.thread_name = Arc::new(f);
        self
    }

    /// Stack size of the runtime's threads, in bytes.
    ///
    /// ```
    /// let rt = keen::runtime::Builder::new_multi_thread()
    ///     .thread_stack_size(4 << 20)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
    /// ```
    pub fn thread_stack_size(&mut self, size: usize) -> &mut Self {
        self.thread_stack_size = Some(size);
        self
    }

    /// Runs first on every thread the runtime starts.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let count = started.clone();
    /// let rt = keen::runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || { count.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(rt.spawn(async {})).unwrap();
    /// drop(rt); // joins the workers
    /// assert!(started.load(Ordering::SeqCst) >= 2);
    /// ```
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs last on every thread the runtime starts.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// let stopped = Arc::new(AtomicUsize::new(0));
    /// let count = stopped.clone();
    /// let rt = keen::runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_stop(move || { count.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// drop(rt);
    /// assert!(stopped.load(Ordering::SeqCst) >= 2);
    /// ```
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Accepted for tokio compatibility and does nothing: a keen runtime
    /// always has its I/O reactor and its timers, so
    /// `Builder::new_multi_thread().enable_all().build()` ports unchanged.
    ///
    /// ```
    /// let rt = keen::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    /// rt.block_on(keen::time::sleep(std::time::Duration::from_millis(1)));
    /// ```
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }

    /// Accepted for tokio compatibility and does nothing: the I/O reactor
    /// is always on. See [`enable_all`](Self::enable_all).
    pub fn enable_io(&mut self) -> &mut Self {
        self
    }

    /// Accepted for tokio compatibility and does nothing: timers are always
    /// on. See [`enable_all`](Self::enable_all).
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }

    /// Starts the runtime with its clock paused (default `false`): time then
    /// moves only through [`time::advance`](crate::time::advance) and by
    /// auto-advance to the next timer when every runtime thread is idle.
    /// For deterministic tests; works on both flavours.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// let real = std::time::Instant::now();
    /// rt.block_on(keen::time::sleep(Duration::from_secs(3600)));
    /// assert!(real.elapsed() < Duration::from_secs(60));
    /// ```
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// What to do when a task panics and no `JoinHandle` will see it.
    ///
    /// ```
    /// use keen::runtime::{Builder, UnhandledPanic};
    /// let rt = Builder::new_current_thread()
    ///     .unhandled_panic(UnhandledPanic::Ignore)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     drop(keen::spawn(async { panic!("nobody looks") })); // not reported
    /// });
    /// ```
    pub fn unhandled_panic(&mut self, policy: UnhandledPanic) -> &mut Self {
        self.config.unhandled_panic = policy;
        self
    }

    /// Builds the runtime and starts its threads.
    pub fn build(&mut self) -> io::Result<Runtime> {
        // Runtime threads need the handle, which needs the scheduler: the
        // hooks read it from a slot filled before any thread starts. The
        // slot holds a `Weak`: the hooks live inside the scheduler, so a
        // strong handle there would be a cycle and the runtime would leak.
        let slot: Arc<OnceLock<Weak<HandleInner>>> = Arc::new(OnceLock::new());
        let start = thread_start_hook(slot.clone(), self.on_thread_start.clone());
        let stop = thread_stop_hook(self.on_thread_stop.clone());

        let mut config = self.config.clone();
        if let Some(n) = self.worker_threads {
            config.worker_threads = n;
        }
        config.thread_name = self.thread_name.clone();
        config.thread_stack_size = self.thread_stack_size;
        config.on_thread_start = Some(start.clone());
        config.on_thread_stop = Some(stop.clone());

        let io_driver = IoDriver::new()?;
        let io = io_driver.handle().clone();
        // The driver stack, top down: time over the I/O reactor (which
        // blocks in `epoll_wait`); each knows the one below only as a
        // `park::Driver`.
        let driver = TimeDriver::new(self.start_paused, Box::new(io_driver));
        let time = driver.shared().clone();
        let driver = Box::new(driver);
        let scheduler = match self.kind {
            Kind::CurrentThread => Scheduler::new_current_thread(config, driver),
            Kind::MultiThread => Scheduler::new_multi_thread(config, driver),
        };
        let blocking = BlockingPool::new(BlockingConfig {
            max_threads: self.max_blocking_threads,
            keep_alive: self.keep_alive,
            thread_name: self.thread_name.clone(),
            thread_stack_size: self.thread_stack_size,
            on_thread_start: Some(start),
            on_thread_stop: Some(stop),
        });
        let handle = Handle {
            inner: Arc::new(HandleInner {
                scheduler: scheduler.handle(),
                blocking: blocking.spawner(),
                time,
                io,
            }),
        };
        let _ = slot.set(Arc::downgrade(&handle.inner));
        scheduler.launch()?;
        Ok(Runtime::from_parts(scheduler, blocking, handle))
    }
}

fn thread_start_hook(slot: Arc<OnceLock<Weak<HandleInner>>>, user: Option<Hook>) -> Hook {
    Arc::new(move || {
        let inner = slot.get().and_then(Weak::upgrade);
        context::set_thread_handle(inner.map(|inner| Handle { inner }));
        if let Some(user) = &user {
            user();
        }
    })
}

fn thread_stop_hook(user: Option<Hook>) -> Hook {
    Arc::new(move || {
        if let Some(user) = &user {
            user();
        }
        context::set_thread_handle(None);
    })
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("kind", &self.kind)
            .field("config", &self.config)
            .field("worker_threads", &self.worker_threads)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("keep_alive", &self.keep_alive)
            .field("start_paused", &self.start_paused)
            .finish_non_exhaustive()
    }
}
