//! Scenarios 1, 2 and 24: the seed case (each eagerly spawned child enters
//! a zero timeout), at scale and with every deadline helper, and its tokio
//! port. In Python with an eager task factory, the first of these timeouts
//! to fire cancelled the *parent*; in keen each belongs to its child.

use std::future::Future;
use std::time::Duration;

use keen::scope::{CancelScope, fail_after, move_on_after};
use keen::task::{self, Id, yield_now};
use keen::time::{Instant, sleep, timeout};
use keen_suite::{Config, run_in_task};

use super::Check;
use crate::ensure;

/// What one child saw: its own id, and whether its zero deadline elapsed.
type Outcome = (Id, bool);

async fn op_timeout() -> Outcome {
    let elapsed = timeout(Duration::ZERO, yield_now()).await.is_err();
    (task::id(), elapsed)
}

async fn op_fail_after() -> Outcome {
    let elapsed = fail_after(Duration::ZERO, yield_now()).await.is_err();
    (task::id(), elapsed)
}

async fn op_move_on_after() -> Outcome {
    let elapsed = move_on_after(Duration::ZERO, yield_now()).await.is_none();
    (task::id(), elapsed)
}

/// Spawns `n` children running `op` inside a parent scope, joins them
/// (gather), and checks every child's own deadline elapsed in that child
/// while the parent's scope was never cancelled and the parent goes on.
async fn gather<Fut>(n: usize, op: fn() -> Fut) -> Check
where
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let parent = CancelScope::new();
    let parent_id = task::id();
    let result = parent
        .run(async {
            let children: Vec<_> = (0..n).map(|_| keen::spawn(op())).collect();
            for (i, child) in children.into_iter().enumerate() {
                let id = child.id();
                let (seen_id, elapsed) = child.await.map_err(|e| format!("child {i}: {e}"))?;
                ensure!(elapsed, "child {i}: its zero deadline did not elapse");
                ensure!(seen_id == id, "child {i} ran as task {seen_id}, not {id}");
            }
            // The parent carries on: its own timers and deadlines work.
            let start = Instant::now();
            sleep(Duration::from_millis(5)).await;
            ensure!(
                start.elapsed() == Duration::from_millis(5),
                "parent's sleep"
            );
            ensure!(task::id() == parent_id, "the parent's id changed");
            Ok(())
        })
        .await;
    ensure!(!parent.is_cancelled(), "the parent's scope was cancelled");
    result.map_err(|c| format!("the parent was cancelled: {c}"))?
}

/// Scenario 1: `gather(op(A), op(B), op(C))`, each `op` an eagerly spawned child
/// doing `timeout(0, yield_now())`. Correct: three `Elapsed`, each in its
/// own child; the parent is untouched.
pub fn seed(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), gather(3, op_timeout))
}

/// Scenario 2: The seed case with 1,000 children, and with `fail_after` and
/// `move_on_after` instead of `timeout`. Correct: as the seed case.
pub fn seed_thousand(cfg: Config) -> Check {
    run_in_task(&cfg.build_paused(), async {
        gather(1000, op_timeout).await?;
        gather(1000, op_fail_after).await?;
        gather(1000, op_move_on_after).await
    })
}

/// Scenario 24: The seed case on tokio (`tokio::spawn` + `tokio::time::timeout`),
/// to run the same story on both runtimes. tokio spawns lazily, so no
/// child's deadline can touch the parent either. Correct: every child
/// completes as its own task and the parent carries on. (On tokio the zero
/// deadline does not even fire: the timer is only checked after the inner
/// future, and `yield_now` is ready at the re-poll; keen delivers the
/// deadline at the body's first suspension, as trio does.)
pub fn seed_on_tokio(multi: bool) -> Check {
    let rt = if multi {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let children: Vec<_> = (0..3)
            .map(|_| {
                tokio::spawn(async {
                    let r = tokio::time::timeout(Duration::ZERO, tokio::task::yield_now()).await;
                    (tokio::task::id(), r.is_err())
                })
            })
            .collect();
        for (i, child) in children.into_iter().enumerate() {
            let id = child.id();
            let (seen_id, _elapsed) = child.await.map_err(|e| format!("child {i}: {e}"))?;
            ensure!(seen_id == id, "child {i} ran as another task");
        }
        // The parent carries on.
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok(())
    })
}
