//! Scenarios 17–19, 21 and 22: task groups under an eager runtime — a
//! panic in an eager child, a deadline around a group, spawning into a
//! cancelled group, `start`, and the order of lazily spawned children.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keen::group::{StartError, Started, TaskGroup};
use keen::scope::move_on_after;
use keen::task::yield_now;
use keen::time::{Instant, sleep};
use keen_suite::{Config, DropCounter, FirstSteps, run_in_task};

use super::Check;
use crate::ensure;

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

/// Scenario 17: A child that panics in its eager phase, inside a task group: its
/// siblings are cancelled, and the panic is in the `GroupError`.
pub fn eager_panic_in_group(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        let dropped = DropCounter::new();
        let tg = TaskGroup::new();
        for _ in 0..2 {
            let token = dropped.token();
            tg.spawn(async move {
                let _token = token;
                sleep(HOUR).await;
            });
        }
        tg.spawn(async {
            if true {
                panic!("eager child panicked");
            }
        });
        let err = tg.join().await.err().ok_or("join was Ok")?;
        ensure!(err.errors().len() == 1, "{err}");
        ensure!(err.errors()[0].is_panic(), "{err}");
        ensure!(err.to_string().contains("eager child panicked"), "{err}");
        ensure!(
            dropped.get() == 2,
            "{} of 2 siblings cancelled",
            dropped.get()
        );
        Ok(())
    })
}

/// Scenario 18: `move_on_after(50ms)` around a group of three children that sleep
/// forever: all three are cancelled, and the outer scope catches (after
/// they are gone).
pub fn move_on_after_around_group(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        let start = Instant::now();
        let dropped = DropCounter::new();
        let out = move_on_after(50 * MS, async {
            let tg = TaskGroup::new();
            for _ in 0..3 {
                let token = dropped.token();
                tg.spawn(async move {
                    let _token = token;
                    std::future::pending::<()>().await;
                });
            }
            let _ = tg.join().await;
        })
        .await;
        ensure!(out.is_none(), "the outer scope did not catch");
        ensure!(
            dropped.get() == 3,
            "{} of 3 children cancelled when it caught",
            dropped.get()
        );
        ensure!(
            start.elapsed() == 50 * MS,
            "caught at {:?}",
            start.elapsed()
        );
        Ok(())
    })
}

/// Scenario 19: Spawning into an already-cancelled group: the child's first step
/// runs, then it is cancelled at its first suspension; `join` is `Ok`.
pub fn spawn_into_cancelled_group(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let tg = TaskGroup::new();
        tg.cancel();
        let steps = log.clone();
        tg.spawn(async move {
            steps.lock().unwrap().push("first step");
            yield_now().await;
            steps.lock().unwrap().push("second step");
        });
        tg.join().await.map_err(|e| e.to_string())?;
        ensure!(
            *log.lock().unwrap() == ["first step"],
            "{:?}",
            log.lock().unwrap()
        );
        Ok(())
    })
}

/// Scenario 21: `start()`: an error before `started` comes out of `start()` (and
/// does not cancel the group); cancelling the caller of `start()` cancels
/// the child.
pub fn start(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        let tg = TaskGroup::new();
        let early = tg
            .start(|started: Started<u16>| async move {
                let _started = started; // held, not dropped unsent
                yield_now().await;
                Err::<(), _>("bind failed")
            })
            .await;
        match early {
            Err(StartError::Failed(e)) => {
                ensure!(e.to_string().contains("bind failed"), "{e}")
            }
            other => return Err(format!("expected the early error, got {other:?}")),
        }
        ensure!(
            !tg.is_cancelled(),
            "an error before started cancelled the group"
        );

        let dropped = DropCounter::new();
        let token = dropped.token();
        let out = move_on_after(
            5 * MS,
            tg.start(|started| async move {
                let _token = token;
                sleep(HOUR).await;
                started.send(());
            }),
        )
        .await;
        ensure!(out.is_none(), "the caller's scope did not catch");
        tg.join().await.map_err(|e| e.to_string())?;
        ensure!(dropped.get() == 1, "the child was not cancelled");
        Ok(())
    })
}

/// Scenario 22: A lazy group (`spawn_lazy`) keeps trio's order under an eager
/// runtime: `[p0, p1, c0 start, c1 start]` on one thread; on multi-thread
/// a child never starts inside `spawn_lazy`.
pub fn lazy_group_order(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async move {
        let log = Arc::new(Mutex::new(Vec::new()));
        let tg = TaskGroup::new();
        log.lock().unwrap().push("p0".to_owned());
        let first = FirstSteps::new();
        for i in 0..2 {
            let (steps, first_step) = (log.clone(), first.clone());
            tg.spawn_lazy(async move {
                first_step.record(i);
                steps.lock().unwrap().push(format!("c{i} start"));
                yield_now().await;
            });
            ensure!(!first.ran_here(i), "c{i} ran inside spawn_lazy");
        }
        log.lock().unwrap().push("p1".to_owned());
        tg.join().await.map_err(|e| e.to_string())?;
        let log = log.lock().unwrap().clone();
        if !cfg.is_multi_thread() {
            ensure!(log == ["p0", "p1", "c0 start", "c1 start"], "{log:?}");
        }
        ensure!(log.len() == 4, "{log:?}");
        Ok(())
    })
}
