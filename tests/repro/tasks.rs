//! Scenarios 10–16 and 23: the eager task itself — identity, task-locals,
//! ordering, the never-queued fast path, abort, depth, panics, and spawns
//! from threads outside the runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::thread;

use keen::scope::CancelScope;
use keen::task::{self, yield_now};
use keen_suite::{Config, FirstSteps, run_in_task};

use super::Check;
use crate::ensure;

keen::task_local! {
    static VALUE: u32;
}

/// Scenario 10: A task's id is the same in its eager phase, after it resumed on the
/// scheduler, and on its `JoinHandle`.
pub fn task_id_stable(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        let child = keen::spawn(async {
            let eager = task::id();
            yield_now().await;
            (eager, task::id())
        });
        let handle_id = child.id();
        let (eager, resumed) = child.await.map_err(|e| e.to_string())?;
        ensure!(
            eager == handle_id,
            "eager phase: {eager}, handle: {handle_id}"
        );
        ensure!(
            resumed == handle_id,
            "after resume: {resumed}, handle: {handle_id}"
        );
        ensure!(task::id() != handle_id, "the parent has the child's id");
        Ok(())
    })
}

/// Scenario 11: Task-locals: the parent holds 1; the child reads 1 in its eager
/// phase and sets 2; the parent still reads 1; the child reads 2 after it
/// resumed.
pub fn task_local_isolation(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        VALUE.set(1);
        let child = keen::spawn(async {
            let first = VALUE.get();
            VALUE.set(2);
            yield_now().await;
            (first, VALUE.get())
        });
        let parent_now = VALUE.get();
        let (first, resumed) = child.await.map_err(|e| e.to_string())?;
        ensure!(first == 1, "the child read {first} first");
        ensure!(
            parent_now == 1 && VALUE.get() == 1,
            "the child's value leaked"
        );
        ensure!(resumed == 2, "the child read {resumed} after resuming");
        Ok(())
    })
}

/// Scenario 12: Ordering (first steps; the children's later steps may
/// interleave on multi-thread). Eager: `[p0, c0 start, c1 start, p1]` —
/// each child's first step runs inside `spawn`. Lazy: `[p0, p1, c0 start,
/// c1 start]` on current-thread; on multi-thread the children may start on
/// another worker as soon as `spawn` returned, never inside it.
pub fn ordering(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async move {
        let log = Arc::new(Mutex::new(Vec::new()));
        let push = |s: String| log.lock().unwrap().push(s);
        push("p0".into());
        let mut children = Vec::new();
        let mut started_inside_spawn = Vec::new();
        let first = FirstSteps::new();
        for i in 0..2 {
            let (steps, first_step) = (log.clone(), first.clone());
            children.push(keen::spawn(async move {
                first_step.record(i);
                steps.lock().unwrap().push(format!("c{i} start"));
                yield_now().await;
                steps.lock().unwrap().push(format!("c{i} end"));
            }));
            started_inside_spawn.push(first.ran_here(i));
        }
        push("p1".into());
        for child in children {
            child.await.map_err(|e| e.to_string())?;
        }
        let log = log.lock().unwrap().clone();
        let firsts: Vec<&str> = log
            .iter()
            .map(String::as_str)
            .filter(|s| !s.ends_with(" end"))
            .collect();
        if cfg.eager {
            ensure!(
                firsts == ["p0", "c0 start", "c1 start", "p1"]
                    && started_inside_spawn == [true, true],
                "eager order: {log:?}"
            );
        } else if !cfg.is_multi_thread() {
            ensure!(
                firsts == ["p0", "p1", "c0 start", "c1 start"],
                "lazy order: {log:?}"
            );
        } else {
            ensure!(
                started_inside_spawn == [false, false],
                "lazy spawn ran the child: {log:?}"
            );
        }
        ensure!(log.len() == 6, "every step ran: {log:?}");
        Ok(())
    })
}

/// Scenario 13: A child that completes in its eager poll is finished when `spawn`
/// returns and never touches a run queue (metrics); spawned lazily it is
/// queued and runs later.
pub fn eager_completion_never_queued(cfg: Config) -> Check {
    let rt = cfg.build_paused();
    let before = rt.metrics();
    let finished_at_once = run_in_task(&rt, async {
        let child = keen::spawn(async { 6 * 7 });
        let at_once = child.is_finished();
        let value = child.await;
        (at_once, value.ok())
    });
    let after = rt.metrics();
    let (at_once, value) = finished_at_once;
    ensure!(value == Some(42), "the child's value: {value:?}");
    if cfg.eager {
        ensure!(at_once, "not finished when spawn returned");
        ensure!(
            after.eager_completed == before.eager_completed + 1,
            "not counted as eager-completed"
        );
        // Only the test's own task was queued and polled.
        ensure!(after.promoted == before.promoted, "the child was promoted");
    } else {
        ensure!(!at_once, "a lazy spawn finished inside spawn");
        ensure!(
            after.eager_completed == before.eager_completed,
            "counted eager"
        );
    }
    Ok(())
}

/// Scenario 14: `abort()` after a child completed in its eager poll is a no-op (the
/// handle still yields the value); after a child blocked in its eager poll
/// it cancels it (`is_cancelled()`). Spawned lazily, both are aborted
/// before they ever run.
pub fn abort_after_eager_phase(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async move {
        let done = keen::spawn(async { "done" });
        done.abort();
        let out = done.await;
        if cfg.eager {
            ensure!(
                out.as_ref().ok() == Some(&"done"),
                "abort after completion: {out:?}"
            );
        } else {
            ensure!(
                out.as_ref().is_err_and(|e| e.is_cancelled()),
                "lazy: {out:?}"
            );
        }
        let blocked = keen::spawn(std::future::pending::<()>());
        blocked.abort();
        let out = blocked.await;
        ensure!(
            out.as_ref().is_err_and(|e| e.is_cancelled()),
            "abort after a block: {out:?}"
        );
        Ok(())
    })
}

fn nest(depth: usize, max: usize) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    Box::pin(async move {
        if depth == max {
            depth
        } else {
            keen::spawn(nest(depth + 1, max)).await.unwrap()
        }
    })
}

/// Scenario 15: 10,000 nested eager spawns (each child spawns the next and awaits
/// it) complete without a stack overflow (past the eager depth limit spawns
/// fall back to lazy) and return the depth.
pub fn deep_nested_spawn(cfg: Config) -> Check {
    let depth = run_in_task(&cfg.build_paused(), nest(0, 10_000));
    ensure!(depth == 10_000, "returned {depth}");
    Ok(())
}

/// Scenario 16: A panic in the eager phase reaches the `JoinHandle`
/// (`is_panic()`), and the parent's task id, task-locals and scope chain
/// are restored: a scope entered afterwards still links to the parent's.
pub fn panic_in_eager_phase(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        VALUE.set(5);
        let parent_id = task::id();
        let parent = CancelScope::new();
        let out = parent
            .run(async {
                let child = keen::spawn(async {
                    VALUE.set(6);
                    let inner = CancelScope::new();
                    let _ = inner.run(async { panic!("eager boom") }).await;
                });
                let _ = child.await;
                // The chain is the parent's again: a new scope links to it.
                parent.cancel();
                let _ = CancelScope::new().run(yield_now()).await;
            })
            .await;
        ensure!(
            out.is_err(),
            "a scope entered after the panic did not link to the parent's"
        );
        ensure!(
            task::id() == parent_id && VALUE.get() == 5,
            "not restored after the body"
        );
        // Check the panic and restoration through a second run that is not
        // cancelled.
        let again = CancelScope::new()
            .run(async {
                let child = keen::spawn(async {
                    if true {
                        panic!("eager boom")
                    }
                });
                let restored = task::id() == parent_id && VALUE.get() == 5;
                (restored, child.await.err().is_some_and(|e| e.is_panic()))
            })
            .await
            .map_err(|c| c.to_string())?;
        ensure!(again == (true, true), "(restored, is_panic) = {again:?}");
        Ok(())
    })
}

/// Scenario 23: A spawn from a thread outside the runtime, through a `Handle`, is
/// not eager (the child's first step runs on a runtime thread, not the
/// spawning one), is scheduled, and completes.
pub fn spawn_from_outside(cfg: Config) -> Check {
    let rt = cfg.build_paused();
    let handle = rt.handle().clone();
    let before = rt.metrics().eager_completed;
    let (spawner, child) = thread::spawn(move || {
        let child = handle.spawn(async { thread::current().id() });
        (thread::current().id(), child)
    })
    .join()
    .map_err(|_| "the spawning thread panicked")?;
    let ran_on = rt.block_on(child).map_err(|e| e.to_string())?;
    ensure!(
        ran_on != spawner,
        "the first step ran on the spawning thread"
    );
    ensure!(rt.metrics().eager_completed == before, "counted as eager");
    Ok(())
}
