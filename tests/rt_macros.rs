//! `#[keen::test]` and `#[keen::main]` build the runtime their arguments ask
//! for: each test checks that its flavour, `worker_threads`, `start_paused`
//! or `eager` took effect (so a macro ignoring an argument fails here), that
//! attributes after the macro stay on the test (`#[should_panic]`), that
//! `Result` returns and `crate = "..."` work, and that `#[keen::main]`
//! defaults to multi-thread. The compile errors are proven by
//! `runtime/macros/tests/compile_fail.rs`. These tests do not use
//! `keen_suite::each`: the configuration is what is under test, and each
//! one is named in its attribute.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use keen::Handle;
use keen::runtime::Flavor;

/// Where a lazily spawned task runs, compared with the test's thread.
async fn lazy_child_runs_here() -> bool {
    let here = thread::current().id();
    let there = keen::spawn_lazy(async { thread::current().id() })
        .await
        .unwrap();
    here == there
}

#[keen::test]
async fn test_defaults_to_current_thread() {
    let handle = Handle::current();
    assert_eq!(handle.flavor(), Flavor::CurrentThread);
    assert_eq!(handle.metrics().num_workers(), 1);
    // No worker threads: the queued child runs on this thread.
    assert!(lazy_child_runs_here().await);
}

#[keen::test(flavor = "current_thread")]
async fn current_thread_flavor() {
    assert_eq!(Handle::current().flavor(), Flavor::CurrentThread);
    assert!(lazy_child_runs_here().await);
}

#[keen::test(flavor = "multi_thread")]
async fn multi_thread_flavor_runs_queued_tasks_on_workers() {
    assert_eq!(Handle::current().flavor(), Flavor::MultiThread);
    assert!(!lazy_child_runs_here().await);
}

#[keen::test(flavor = "multi_thread", worker_threads = 3)]
async fn worker_threads_sets_the_worker_count() {
    let handle = Handle::current();
    assert_eq!(handle.flavor(), Flavor::MultiThread);
    assert_eq!(handle.metrics().num_workers(), 3);
}

#[keen::test(flavor = "multi_thread", worker_threads = 1)]
async fn one_worker() {
    assert_eq!(Handle::current().metrics().num_workers(), 1);
    assert!(!lazy_child_runs_here().await);
}

#[keen::test(start_paused = true)]
async fn start_paused_on_current_thread() {
    let start = keen::time::Instant::now();
    // `advance` panics at once on a running clock: a macro that dropped
    // `start_paused` fails here instead of sleeping an hour.
    keen::time::advance(Duration::from_secs(1)).await;
    keen::time::sleep(Duration::from_secs(3600)).await;
    // Exactly that on the paused clock (auto-advance), none really.
    assert_eq!(start.elapsed(), Duration::from_secs(3601));
}

#[keen::test(flavor = "multi_thread", worker_threads = 2, start_paused = true)]
async fn start_paused_on_multi_thread() {
    // keen's Builder allows a paused clock on both flavours; tokio's macro
    // allows it only on current-thread.
    let start = keen::time::Instant::now();
    keen::time::advance(Duration::from_secs(1)).await;
    keen::spawn(keen::time::sleep(Duration::from_secs(3600)))
        .await
        .unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(3601));
}

#[keen::test(start_paused = false)]
#[should_panic(expected = "needs a paused clock")]
async fn start_paused_false_leaves_the_clock_running() {
    keen::time::advance(Duration::from_secs(1)).await;
}

#[keen::test]
async fn eager_by_default() {
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let child = keen::spawn(async move {
        flag.store(true, Ordering::SeqCst);
        keen::task::yield_now().await;
    });
    // Eager: the child's first step ran inside `spawn`.
    assert!(ran.load(Ordering::SeqCst));
    child.await.unwrap();
}

#[keen::test(eager = false)]
async fn eager_false_queues_the_child() {
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let child = keen::spawn(async move {
        flag.store(true, Ordering::SeqCst);
    });
    // Not eager (and current-thread: nobody else could run it yet).
    assert!(!ran.load(Ordering::SeqCst));
    child.await.unwrap();
    assert!(ran.load(Ordering::SeqCst));
}

#[keen::test(flavor = "multi_thread", eager = false)]
async fn eager_false_on_multi_thread_spawns_lazily() {
    // With eager off, the child never runs on the spawning thread: a
    // worker takes it from the queue.
    let here = thread::current().id();
    let there = keen::spawn(async { thread::current().id() }).await.unwrap();
    assert_ne!(here, there);
}

#[keen::test]
async fn result_test_returns_ok() -> Result<(), std::num::ParseIntError> {
    // `?` in the body: the async block's output is the test's return type.
    let n: u32 = keen::spawn(async { "42".parse::<u32>() }).await.unwrap()?;
    assert_eq!(n, 42);
    Ok(())
}

#[keen::test]
#[should_panic(expected = "panicked in the body")]
async fn should_panic_is_kept() {
    keen::task::yield_now().await;
    panic!("panicked in the body");
}

#[keen::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "panicked on multi-thread")]
async fn should_panic_on_multi_thread() {
    keen::task::yield_now().await;
    panic!("panicked on multi-thread");
}

/// A re-export, as a crate that wraps keen would have.
mod wrapper {
    pub use ::keen as rt;
}

#[keen::test(crate = "crate::wrapper::rt")]
async fn crate_argument_names_the_path() {
    assert_eq!(Handle::current().flavor(), Flavor::CurrentThread);
}

#[keen::main]
async fn main_defaults() -> (Flavor, bool) {
    (Handle::current().flavor(), lazy_child_runs_here().await)
}

#[keen::main(flavor = "current_thread", start_paused = true)]
async fn main_with_arguments() -> Result<Duration, String> {
    let start = keen::time::Instant::now();
    keen::time::advance(Duration::from_secs(1)).await;
    keen::time::sleep(Duration::from_secs(60)).await;
    Ok(start.elapsed())
}

#[test]
fn main_defaults_to_multi_thread() {
    assert_eq!(main_defaults(), (Flavor::MultiThread, false));
}

#[test]
fn main_takes_arguments_and_returns_result() {
    assert_eq!(main_with_arguments(), Ok(Duration::from_secs(61)));
}
