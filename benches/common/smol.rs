//! The benches' second peer: smol's pieces (async-executor, async-io,
//! futures-lite, async-channel, async-lock) run the way smol users run
//! them, behind the names the shared workload text uses for keen and tokio
//! (`smol::spawn`, `smol::time::timeout`, `smol::task::yield_now`,
//! `smol::sync::…`). This is not the `smol` crate (which would add its
//! global executor); only its parts.
//!
//! - `current_thread`: a `LocalExecutor`, run on the bench thread by
//!   `async_io::block_on(ex.run(future))`; its tasks run only inside
//!   `block_on`, as on keen's and tokio's current-thread runtimes.
//! - `multi_thread(2)`: an `Arc<Executor>` that 2 threads drive, each in
//!   `async_io::block_on(ex.run(stop))`; `block_on` drives its future on
//!   the bench thread (as tokio's does), and dropping the runtime stops
//!   and joins the threads.
//!
//! Reaching the executor from inside a task: a thread-local holds the
//! executor of the thread it runs on (set for good on the 2 worker
//! threads, and for the length of `block_on` on the bench thread), and
//! [`spawn`] spawns onto it. That is how keen's and tokio's free `spawn`
//! find their runtime too, so all three pay one thread-local look-up.
//!
//! [`JoinHandle`] wraps smol's `Task` in the shape of tokio's handle (an
//! output of `Result<T, _>`, here never an error) and detaches the task when
//! dropped, so the shared workload text, which drops a handle where it
//! means "let it run", means the same on smol: `.detach()` is what smol
//! users write at those sites, and it is what the drop does. `abort`
//! cancels, as dropping a `Task` does.

#![allow(
    dead_code,
    unused_imports,
    reason = "each bench and example that includes `common` uses a part"
)]

use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle as Thread;

use async_executor::{Executor, LocalExecutor, Task};

/// The executor of the thread a task runs on.
#[derive(Clone)]
enum Current {
    Local(Rc<LocalExecutor<'static>>),
    Multi(Arc<Executor<'static>>),
}

impl Current {
    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        JoinHandle(Some(match self {
            Current::Local(ex) => ex.spawn(future),
            Current::Multi(ex) => ex.spawn(future),
        }))
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// Makes `current` this thread's executor until the guard drops (then the
/// previous one is back).
fn enter(current: Current) -> impl Drop {
    struct Restore(Option<Current>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with_borrow_mut(|slot| *slot = self.0.take());
        }
    }
    Restore(CURRENT.with_borrow_mut(|slot| slot.replace(current)))
}

/// Spawns onto the executor of the calling thread (smol's tasks start
/// queued: nothing is polled here). Panics outside a smol runtime.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    CURRENT.with_borrow(|current| {
        current
            .as_ref()
            .expect("smol::spawn outside a smol runtime")
            .spawn(future)
    })
}

/// A spawned task; see the module doc for why it wraps smol's `Task`.
pub struct JoinHandle<T>(Option<Task<T>>);

impl<T> JoinHandle<T> {
    /// Cancels the task (what dropping a `Task` does).
    pub fn abort(mut self) {
        drop(self.0.take());
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = self.0.as_mut().expect("polled after abort");
        Pin::new(task).poll(cx).map(Ok)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}

/// A smol runtime of one flavour; see the module doc.
pub struct SmolRt {
    current: Current,
    /// Closed on drop, which ends every worker's `ex.run`.
    stop: Option<async_channel::Sender<()>>,
    workers: Vec<Thread<()>>,
}

impl SmolRt {
    /// A `LocalExecutor` run on the calling thread inside `block_on`.
    pub fn current_thread() -> Self {
        SmolRt {
            current: Current::Local(Rc::new(LocalExecutor::new())),
            stop: None,
            workers: Vec::new(),
        }
    }

    /// An `Executor` driven by `threads` threads.
    pub fn multi_thread(threads: usize) -> Self {
        let ex = Arc::new(Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let workers = (0..threads)
            .map(|i| {
                let ex = ex.clone();
                let stopped = stopped.clone();
                std::thread::Builder::new()
                    .name(format!("smol-worker-{i}"))
                    .spawn(move || {
                        let _current = enter(Current::Multi(ex.clone()));
                        // `recv` fails once the sender is dropped.
                        let _ = async_io::block_on(ex.run(stopped.recv()));
                    })
                    .unwrap()
            })
            .collect();
        SmolRt {
            current: Current::Multi(ex),
            stop: Some(stop),
            workers,
        }
    }

    /// Runs `future` to completion on the calling thread, with this
    /// runtime's executor reachable by [`spawn`]; on current-thread, the
    /// executor's tasks run meanwhile.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _current = enter(self.current.clone());
        match &self.current {
            Current::Local(ex) => async_io::block_on(ex.run(future)),
            Current::Multi(_) => async_io::block_on(future),
        }
    }

    /// A spawn from outside the runtime (`rt.spawn`).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.current.spawn(future)
    }
}

impl Drop for SmolRt {
    fn drop(&mut self) {
        drop(self.stop.take());
        for worker in self.workers.drain(..) {
            worker.join().unwrap();
        }
    }
}

/// `smol::task::yield_now`.
pub mod task {
    pub use futures_lite::future::yield_now;
}

/// Timeouts as smol users write them: the future raced against an
/// `async_io::Timer`, the future polled first.
pub mod time {
    use std::future::Future;
    use std::time::Duration;

    /// The timer fired first.
    #[derive(Debug)]
    pub struct Elapsed;

    /// `future`, or `Err(Elapsed)` if `duration` passes first.
    pub fn timeout<F: Future>(
        duration: Duration,
        future: F,
    ) -> impl Future<Output = Result<F::Output, Elapsed>> {
        futures_lite::future::or(async { Ok(future.await) }, async move {
            async_io::Timer::after(duration).await;
            Err(Elapsed)
        })
    }

    /// `async_io::Timer::after`, awaited.
    pub async fn sleep(duration: Duration) {
        async_io::Timer::after(duration).await;
    }
}

/// async-lock's `Mutex`, `Semaphore` and `RwLock`, and async-channel as
/// `mpsc`.
pub mod sync {
    pub use async_lock::{Mutex, RwLock, Semaphore};

    /// async-channel under tokio's `mpsc` names.
    pub mod mpsc {
        pub use async_channel::{bounded as channel, unbounded as unbounded_channel};
    }
}

/// smol's sockets: `Async<std::net::…>`, with what the shared I/O workload
/// text calls on keen's and tokio's sockets.
pub mod net {
    use std::io;
    use std::net::SocketAddr;
    use std::time::Duration;

    use async_io::Async;

    pub type TcpStream = Async<std::net::TcpStream>;

    /// `Async<TcpListener>`, bound from a string as keen's and tokio's are.
    pub struct TcpListener(Async<std::net::TcpListener>);

    impl TcpListener {
        pub async fn bind(addr: &str) -> io::Result<Self> {
            let addr: SocketAddr = addr
                .parse()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            Ok(TcpListener(Async::<std::net::TcpListener>::bind(addr)?))
        }

        pub fn local_addr(&self) -> io::Result<SocketAddr> {
            self.0.get_ref().local_addr()
        }

        pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
            self.0.accept().await
        }
    }

    /// The socket options keen's and tokio's streams have as methods;
    /// smol's are set on the inner `std` socket (SO_LINGER through
    /// socket2, which `std` cannot set).
    pub trait StreamOptions {
        fn set_nodelay(&self, on: bool) -> io::Result<()>;
        fn set_linger(&self, linger: Option<Duration>) -> io::Result<()>;
    }

    impl StreamOptions for TcpStream {
        fn set_nodelay(&self, on: bool) -> io::Result<()> {
            self.get_ref().set_nodelay(on)
        }

        fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
            socket2::SockRef::from(self.get_ref()).set_linger(linger)
        }
    }
}
