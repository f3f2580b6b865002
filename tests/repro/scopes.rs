//! Scenarios 3–9 and 20: cancel scopes meeting eager spawn — who owns a
//! scope entered in a child's eager phase, who catches, and what a
//! cancellation never reaches.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keen::scope::{CancelReason, CancelScope, fail_after, move_on_after};
use keen::task::{self, yield_now};
use keen::time::{Instant, sleep, timeout};
use keen_suite::{Config, run_in_task};

use super::Check;
use crate::ensure;

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

/// Scenario 3: A scope entered during a child's eager phase is the child's: inside
/// it `task::id()` is the child's id, and cancelling the parent's scope
/// (while the child's scope is alive) does not reach it.
// The parent's scope body hands the child's JoinHandle out on purpose.
#[allow(clippy::async_yields_async)]
pub fn eager_scope_is_the_childs(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        let parent_id = task::id();
        let parent = CancelScope::new();
        let handle = parent.clone();
        let child = parent
            .run(async move {
                let child = keen::spawn(async {
                    let scope = CancelScope::new();
                    let out = scope
                        .run(async {
                            let inside = task::id();
                            yield_now().await;
                            sleep(2 * MS).await;
                            (inside, task::id())
                        })
                        .await;
                    (out, scope.is_cancelled())
                });
                handle.cancel(); // the parent's own scope, with the child's alive
                child
            })
            .await
            .map_err(|c| format!("the parent's body never suspended, yet: {c}"))?;
        let child_id = child.id();
        let (out, cancelled) = child.await.map_err(|e| e.to_string())?;
        let (inside, after) = out.map_err(|c| format!("the child's scope was cancelled: {c}"))?;
        ensure!(
            inside == child_id,
            "inside the scope: task {inside}, child is {child_id}"
        );
        ensure!(after == child_id, "after resume: task {after}");
        ensure!(inside != parent_id, "the scope ran as the parent");
        ensure!(
            !cancelled && parent.is_cancelled(),
            "the cancellation crossed over"
        );
        Ok(())
    })
}

/// Scenario 4: `timeout(0)` (and `fail_after(0)`, `move_on_after(0)`) around a body
/// that never suspends: the body is polled before the deadline is looked
/// at, so it is `Ok`.
pub fn zero_timeout_ready_body(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        let sum = timeout(Duration::ZERO, async { (1..=10).sum::<u32>() }).await;
        ensure!(sum == Ok(55), "timeout(0): {sum:?}");
        let r = fail_after(Duration::ZERO, async { "done" }).await;
        ensure!(r == Ok("done"), "fail_after(0): {r:?}");
        let r = move_on_after(Duration::ZERO, async { 3 }).await;
        ensure!(r == Some(3), "move_on_after(0): {r:?}");
        Ok(())
    })
}

/// Scenario 5: The parent's `timeout(50ms)` around spawn-and-join of a child that
/// sleeps 1 s: the parent's scope reports `Elapsed` at 50 ms, the join (not
/// the detached child) is cancelled, and the parent's next checkpoint is
/// not cancelled.
pub fn parent_timeout_around_join(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        let start = Instant::now();
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        let out = timeout(50 * MS, async move {
            let child = keen::spawn(async move {
                sleep(Duration::from_secs(1)).await;
                flag.store(true, SeqCst);
            });
            child.await
        })
        .await;
        ensure!(out.is_err(), "the parent's timeout did not report: {out:?}");
        ensure!(
            start.elapsed() == 50 * MS,
            "reported at {:?}",
            start.elapsed()
        );
        yield_now().await;
        sleep(MS).await; // a later checkpoint: not cancelled
        ensure!(start.elapsed() == 51 * MS, "the later sleep");
        sleep(Duration::from_secs(1)).await;
        ensure!(
            finished.load(SeqCst),
            "the detached child was cancelled too"
        );
        Ok(())
    })
}

/// Scenario 6: Nested scopes: both expired at once → the outer catches (the inner
/// reports nothing); inner shorter → the inner catches and the outer
/// completes.
pub fn nested_attribution(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        let outer = CancelScope::with_timeout(10 * MS);
        let inner = CancelScope::with_timeout(10 * MS);
        let out = outer.run(inner.run(sleep(HOUR))).await;
        let caught = out.err().ok_or("both expired, yet Ok")?;
        ensure!(caught.scope().ptr_eq(&outer), "the inner scope caught");
        ensure!(
            outer.cancelled_caught() && !inner.cancelled_caught(),
            "attribution"
        );

        let start = Instant::now();
        let outer = CancelScope::with_timeout(10 * MS);
        let inner = CancelScope::with_timeout(5 * MS);
        let out = outer
            .run(async {
                let r = inner.run(sleep(HOUR)).await;
                (r.is_err(), "outer body done")
            })
            .await;
        ensure!(
            out.as_ref().ok() == Some(&(true, "outer body done")),
            "{out:?}"
        );
        ensure!(
            inner.cancelled_caught() && !outer.is_cancelled(),
            "inner catches"
        );
        ensure!(start.elapsed() == 5 * MS, "at {:?}", start.elapsed());
        Ok(())
    })
}

/// Scenario 7: The parent's scope has 1 s; the child's own `timeout(10ms)` fires:
/// only the child's scope reports.
pub fn childs_timeout_inside_parent_scope(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        let start = Instant::now();
        let parent = CancelScope::with_timeout(Duration::from_secs(1));
        let out = parent
            .run(async {
                let child = keen::spawn(async { timeout(10 * MS, sleep(HOUR)).await.is_err() });
                child.await
            })
            .await;
        let child_elapsed = out
            .map_err(|c| format!("the parent's scope reported: {c}"))?
            .map_err(|e| e.to_string())?;
        ensure!(child_elapsed, "the child's timeout did not fire");
        ensure!(!parent.is_cancelled(), "the parent's scope was cancelled");
        ensure!(start.elapsed() == 10 * MS, "at {:?}", start.elapsed());
        Ok(())
    })
}

/// Scenario 8: `cancel()` before the first poll is remembered: the body's first
/// step runs, and it is cancelled at its first suspension.
pub fn cancel_before_first_poll(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        let log = Mutex::new(Vec::new());
        let scope = CancelScope::new();
        scope.cancel();
        let out = scope
            .run(async {
                log.lock().unwrap().push("first step");
                yield_now().await;
                log.lock().unwrap().push("second step");
            })
            .await;
        let caught = out.err().ok_or("not cancelled")?;
        ensure!(caught.reason() == CancelReason::Explicit, "{caught}");
        ensure!(
            *log.lock().unwrap() == ["first step"],
            "{:?}",
            log.lock().unwrap()
        );
        Ok(())
    })
}

/// Scenario 9: A timeout entered in a child's eager phase, the child promoted, the
/// timeout firing later: caught by the child's scope, nothing else.
pub fn eager_timeout_fires_after_promotion(cfg: Config) -> Check {
    let rt = cfg.build_paused();
    let promoted_before = rt.metrics().promoted;
    let check = run_in_task(&rt, async {
        let start = Instant::now();
        let parent = CancelScope::new();
        let out = parent
            .run(async {
                let child = keen::spawn(async {
                    let r = timeout(10 * MS, sleep(HOUR)).await;
                    (r.is_err(), task::id())
                });
                let id = child.id();
                let (elapsed, seen) = child.await.map_err(|e| e.to_string())?;
                ensure!(
                    elapsed && seen == id,
                    "the child's timeout: {elapsed} in {seen}"
                );
                Ok(())
            })
            .await;
        ensure!(!parent.is_cancelled(), "the parent's scope was cancelled");
        ensure!(start.elapsed() == 10 * MS, "fired at {:?}", start.elapsed());
        out.map_err(|c| c.to_string())?
    });
    if cfg.eager {
        ensure!(
            rt.metrics().promoted > promoted_before,
            "the child was not promoted"
        );
    }
    check
}

/// Scenario 20: Shield: the outer scope is cancelled (2 ms) while a shielded 10 ms
/// sleep runs; the sleep completes, and the next suspension outside the
/// shield is cancelled.
pub fn shield(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        let start = Instant::now();
        let log = Mutex::new(Vec::new());
        let outer = CancelScope::with_timeout(2 * MS);
        let out = outer
            .run(async {
                let shielded = CancelScope::new();
                shielded.set_shield(true);
                let r = shielded.run(sleep(10 * MS)).await;
                log.lock().unwrap().push(if r.is_ok() {
                    "shield done"
                } else {
                    "shield cancelled"
                });
                sleep(HOUR).await;
                log.lock().unwrap().push("after the shield");
            })
            .await;
        ensure!(
            out.is_err() && outer.cancelled_caught(),
            "the outer scope did not catch"
        );
        ensure!(
            *log.lock().unwrap() == ["shield done"],
            "{:?}",
            log.lock().unwrap()
        );
        ensure!(
            start.elapsed() == 10 * MS,
            "caught at {:?}",
            start.elapsed()
        );
        Ok(())
    })
}
