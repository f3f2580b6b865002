//! The multi-thread `block_on` thread's outbox (`scheduler/src/flavors/
//! multi_thread/mod.rs`, `BlockOn`): tasks that thread schedules during its
//! eager spawns are held and handed over in bursts. Three review findings,
//! each test failing before the fix committed with it:
//!
//! - a hand-over after a shutdown drops a held task's future on that
//!   thread, and a `Drop` that spawns there found the outbox still
//!   borrowed (a panic reported as the task's result, and a leaked task);
//! - every held task went to the injector that thread helps with while its
//!   root waits, so a lazy spawn inside an eager step, or a worker task an
//!   eager step woke, could run on the root's own thread;
//! - workers looked at that injector only when the other one was empty, so
//!   a steady stream of remote spawns could keep its tasks waiting.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

fn one_worker() -> keen::Runtime {
    keen::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap()
}

/// Counts its drop.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Spawns, when dropped, a task that yields once (so an eager spawn holds
/// it) and counts its own drop.
struct SpawnOnDrop(Arc<AtomicUsize>);

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let counted = Counted(self.0.clone());
        drop(keen::spawn(async move {
            let _counted = counted;
            keen::task::yield_now().await;
        }));
    }
}

/// The runtime shuts down while the `block_on` thread is inside an eager
/// spawn that holds a child (it yielded in its first step). When that spawn
/// returns, the hand-over finds the injectors closed and drops the child's
/// future there; its `Drop` spawns a task that yields, which is held in
/// the same outbox. The child must read as cancelled, and the task its
/// drop spawned must be dropped too.
#[test]
#[allow(
    clippy::async_yields_async,
    reason = "the eager step hands a join handle out, to be awaited later"
)]
fn a_drop_that_spawns_while_held_tasks_are_shut_down_is_neither_a_panic_nor_a_leak() {
    let rt = one_worker();
    let handle = rt.handle().clone();
    let drops = Arc::new(AtomicUsize::new(0));
    let (ready, is_ready) = mpsc::channel();
    let (go, wait_for_go) = mpsc::channel::<()>();
    let spawned = drops.clone();
    let on_block_on = thread::spawn(move || {
        handle.block_on(async move {
            let outer = keen::spawn(async move {
                let child = keen::spawn(async move {
                    let _spawns = SpawnOnDrop(spawned);
                    keen::task::yield_now().await;
                });
                // `child` is held in this thread's outbox until this, the
                // outermost eager spawn, returns.
                ready.send(()).unwrap();
                wait_for_go.recv().unwrap();
                child
            });
            outer.await.unwrap().await
        })
    });
    is_ready.recv().unwrap();
    rt.shutdown_background();
    go.send(()).unwrap();
    let child = on_block_on.join().expect("the block_on thread panicked");
    let error = child.expect_err("the runtime shut down before the child ran again");
    assert!(
        error.is_cancelled(),
        "the child was cancelled, not failed: {error:?}"
    );
    assert_eq!(
        drops.load(SeqCst),
        1,
        "the task spawned by the child's drop was dropped, not leaked"
    );
}

/// Blocks the runtime's only worker until the returned sender is dropped.
async fn block_the_worker() -> (mpsc::Sender<()>, keen::task::JoinHandle<()>) {
    let (started, worker_busy) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let blocker = keen::spawn_lazy(async move {
        started.send(()).unwrap();
        let _ = released.recv();
    });
    worker_busy.recv().unwrap();
    (release, blocker)
}

/// Awaits `task`, letting the worker go (dropping `release`) only once
/// `task` was polled and found pending: the root is then pending with the
/// task queued, where the `block_on` thread helps with what it may run.
async fn await_then_release<T>(task: keen::task::JoinHandle<T>, release: mpsc::Sender<()>) -> T {
    let mut task = pin!(task);
    let mut release = Some(release);
    let out = poll_fn(|cx| {
        let polled = task.as_mut().poll(cx);
        drop(release.take());
        polled
    })
    .await;
    out.unwrap()
}

/// A task spawned lazily inside an eager step on the `block_on` thread is
/// queued for the workers: that thread never runs it while its root waits.
#[test]
#[allow(
    clippy::async_yields_async,
    reason = "the eager step hands a join handle out, to be awaited later"
)]
fn a_lazy_spawn_inside_an_eager_step_on_the_block_on_thread_runs_on_a_worker() {
    let rt = one_worker();
    let me = thread::current().id();
    for round in 0..20 {
        rt.block_on(async {
            let (release, blocker) = block_the_worker().await;
            let lazy = keen::spawn(async { keen::spawn_lazy(async { thread::current().id() }) })
                .await
                .unwrap();
            let ran_on = await_then_release(lazy, release).await;
            assert_ne!(ran_on, me, "round {round}: ran on the block_on thread");
            blocker.await.unwrap();
        });
    }
}

/// A worker task woken by an eager step on the `block_on` thread goes back
/// to the workers: that thread never runs its next step while its root
/// waits.
#[test]
fn a_worker_task_woken_by_an_eager_step_on_the_block_on_thread_stays_on_the_workers() {
    let rt = one_worker();
    let me = thread::current().id();
    for round in 0..20 {
        rt.block_on(async {
            let (wake, woken) = keen::sync::oneshot::channel::<()>();
            let (first_step, first_step_done) = mpsc::channel();
            let task = keen::spawn_lazy(async move {
                first_step.send(thread::current().id()).unwrap();
                woken.await.unwrap();
                thread::current().id()
            });
            let first_on = first_step_done.recv().unwrap();
            assert_ne!(first_on, me, "a queued task starts on a worker");
            let (release, blocker) = block_the_worker().await;
            // The eager step sends: the wake of `task` is made (and held)
            // on this thread.
            keen::spawn(async move { wake.send(()).unwrap() })
                .await
                .unwrap();
            let ran_on = await_then_release(task, release).await;
            assert_ne!(ran_on, me, "round {round}: resumed on the block_on thread");
            blocker.await.unwrap();
        });
    }
}

/// With the worker's other injector never empty, a task in the one the
/// `block_on` thread hands its yielded children to still runs: here 1,000
/// remote tasks wait behind a blocked worker, a child that yielded in its
/// eager step waits in the other injector, and the root blocks its thread
/// (so it cannot help). The child must not run last.
#[test]
fn a_child_handed_over_by_the_block_on_thread_is_not_starved_by_remote_spawns() {
    const REMOTE: usize = 1_000;
    let rt = one_worker();
    let order = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let (release, blocker) = block_the_worker().await;
        let (all_ran, wait_all) = mpsc::channel();
        let log = |entry: Option<usize>| {
            let order = order.clone();
            let all_ran = all_ran.clone();
            move || {
                let mut order = order.lock().unwrap();
                order.push(entry);
                if order.len() == REMOTE + 1 {
                    all_ran.send(()).unwrap();
                }
            }
        };
        // From the root itself: queued in the plain injector.
        let remote: Vec<_> = (0..REMOTE)
            .map(|i| {
                let done = log(Some(i));
                keen::spawn_lazy(async move { done() })
            })
            .collect();
        let done = log(None);
        let child = keen::spawn(async move {
            keen::task::yield_now().await;
            done();
        });
        drop(release);
        // Blocks this thread: nothing here may help while the worker runs.
        wait_all.recv().unwrap();
        child.await.unwrap();
        for task in remote {
            task.await.unwrap();
        }
        blocker.await.unwrap();
    });
    let order = order.lock().unwrap();
    let at = order.iter().position(Option::is_none).unwrap();
    assert!(
        at < REMOTE / 2,
        "the handed-over child ran after {at} of {REMOTE} remote tasks"
    );
}
