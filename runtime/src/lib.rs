//! `keen`: an async runtime whose `spawn` is eager.
//!
//! [`spawn`] polls the new future right away, on the calling thread, until
//! its first `Pending`; only then does the task go to the scheduler. A future
//! that finishes in its first poll never touches a run queue. Everything else
//! is what a tokio user expects: [`Runtime`], [`runtime::Builder`],
//! [`Handle`], [`task::JoinHandle`], [`spawn_blocking`],
//! task-locals. Read `docs/eager.md` for what eager spawn changes.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use keen::runtime::Builder;
//!
//! let rt = Builder::new_current_thread().build().unwrap();
//! let order = Arc::new(Mutex::new(Vec::new()));
//! rt.block_on(async {
//!     let log = order.clone();
//!     order.lock().unwrap().push("parent before spawn");
//!     let child = keen::spawn(async move {
//!         log.lock().unwrap().push("child first step");
//!         keen::task::yield_now().await;
//!         log.lock().unwrap().push("child second step");
//!     });
//!     order.lock().unwrap().push("parent after spawn");
//!     child.await.unwrap();
//! });
//! assert_eq!(
//!     *order.lock().unwrap(),
//!     ["parent before spawn", "child first step", "parent after spawn", "child second step"]
//! );
//! ```
//!
//! With the `macros` feature (on by default), [`main`](macro@main) and
//! [`test`](macro@test) turn an `async fn` into one that builds a runtime
//! and blocks on the body, with tokio's arguments (`flavor`,
//! `worker_threads`, `start_paused`) and keen's `eager`:
//!
//! ```
//! #[keen::main(worker_threads = 2)]
//! async fn main() -> std::io::Result<()> {
//!     let listener = keen::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let client = keen::spawn(async move { keen::net::TcpStream::connect(addr).await });
//!     let (_server_side, _) = listener.accept().await?;
//!     client.await.unwrap()?;
//!     Ok(())
//! }
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    clippy::undocumented_unsafe_blocks
)]

mod blocking;
#[cfg(feature = "hyper")]
pub mod compat;
mod context;
pub mod fs;
pub mod group;
pub mod io;
mod loom;
pub mod net;
pub mod patterns;
pub mod runtime;
pub mod scope;
pub mod signal;
pub mod sync;
pub mod task;
pub mod time;

#[cfg(all(test, loom))]
#[path = "../tests/loom_semaphore.rs"]
mod loom_semaphore;

#[cfg(all(test, loom))]
#[path = "../tests/loom_io.rs"]
mod loom_io;

#[cfg(all(test, loom))]
#[path = "../tests/loom_support.rs"]
mod loom_support;

#[cfg(all(test, loom))]
#[path = "../tests/loom_oneshot.rs"]
mod loom_oneshot;

#[cfg(all(test, loom))]
#[path = "../tests/loom_mpsc.rs"]
mod loom_mpsc;

#[cfg(all(test, loom))]
#[path = "../tests/loom_event.rs"]
mod loom_event;

#[cfg(all(test, loom))]
#[path = "../tests/loom_limiter.rs"]
mod loom_limiter;

#[cfg(all(test, loom))]
#[path = "../tests/loom_time.rs"]
mod loom_time;

#[cfg(all(test, loom))]
#[path = "../tests/loom_scope.rs"]
mod loom_scope;

#[cfg(all(test, loom))]
#[path = "../tests/loom_rwlock.rs"]
mod loom_rwlock;

#[cfg(all(test, loom))]
#[path = "../tests/loom_notify.rs"]
mod loom_notify;

#[cfg(all(test, loom))]
#[path = "../tests/loom_watch.rs"]
mod loom_watch;

#[cfg(all(test, loom))]
#[path = "../tests/loom_broadcast.rs"]
mod loom_broadcast;

#[cfg(all(test, loom))]
#[path = "../tests/loom_barrier_once.rs"]
mod loom_barrier_once;

use std::future::Future;

use keen_scheduler::SpawnMode;
use keen_scheduler::context::inherited_locals;

pub use context::EnterGuard;
/// `#[keen::main]` and `#[keen::test]`: an `async fn` run on a new runtime
/// (feature `macros`, on by default).
#[cfg(feature = "macros")]
#[doc(inline)]
pub use keen_macros::{main, test};
pub use runtime::{Handle, Runtime};
use task::JoinHandle;

/// Spawns a task on the current runtime: eagerly polled here until its first
/// `Pending` when called on one of the runtime's workers, queued otherwise.
///
/// ```
/// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let (tx, rx) = std::sync::mpsc::channel();
///     let task = keen::spawn(async move {
///         tx.send("first step").unwrap(); // runs before `spawn` returns
///         keen::task::yield_now().await;
///         "done"
///     });
///     assert_eq!(rx.try_recv().unwrap(), "first step");
///     assert_eq!(task.await.unwrap(), "done");
/// });
/// ```
///
/// # Panics
/// Outside a runtime, with a message naming the fix.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // Hot path: on a thread of the current runtime, spawn through the
    // scheduler's own thread context without cloning the handle.
    match context::current_scheduler_id() {
        Some(id) => keen_scheduler::with_runtime_thread(id, move |here| match here {
            Some(spawner) => spawner.spawn(SpawnMode::Eager, future),
            None => Handle::current().spawn(future),
        }),
        None => Handle::current().spawn(future),
    }
}

/// Spawns a task on the current runtime without polling it here, as tokio
/// does; use it where the child's first step must not run inside the
/// caller (a lock held, a `RefCell` borrowed).
///
/// ```
/// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let task = keen::spawn_lazy(async { 1 });
///     assert!(!task.is_finished()); // queued, not yet polled
///     assert_eq!(task.await.unwrap(), 1);
/// });
/// ```
///
/// # Panics
/// Outside a runtime.
#[track_caller]
pub fn spawn_lazy<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Handle::current().spawn_lazy(future)
}

/// Spawns a `!Send` future on the current-thread runtime driven by this
/// thread. Eager like [`spawn`].
///
/// ```
/// use std::rc::Rc;
/// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let shared = Rc::new(5);
///     let local = shared.clone();
///     assert_eq!(keen::spawn_local(async move { *local + 1 }).await.unwrap(), 6);
/// });
/// ```
///
/// # Panics
/// Outside a current-thread runtime's `block_on`.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Handle::current()
        .scheduler()
        .spawn_local(future, inherited_locals())
}

/// Runs `f` on the current runtime's blocking pool (one per runtime, shared
/// by everything on it), with the caller's task-locals.
///
/// ```
/// let rt = keen::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     keen::spawn_blocking(|| (1..=100u32).sum::<u32>()).await.unwrap()
/// });
/// assert_eq!(sum, 5050);
/// ```
///
/// # Panics
/// Outside a runtime.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Handle::current().spawn_blocking(f)
}

/// Runs `future` to completion on a new current-thread runtime, which is
/// dropped afterwards. For repeated use, build a [`Runtime`] once.
///
/// ```
/// assert_eq!(keen::block_on(async { keen::spawn(async { 2 }).await.unwrap() * 21 }), 42);
/// ```
///
/// # Panics
/// On a runtime thread, or if the runtime cannot be built.
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    runtime::Builder::new_current_thread()
        .build()
        .expect("failed to build a current-thread runtime")
        .block_on(future)
}
