//! Regressions from the review of the scope code: races between a scope's
//! first `Pending` and a `cancel()` or `set_deadline` on another thread, a
//! shield with its own deadline inside a cancelled parent, and a shield that
//! finishes in another task. Each of these hung before its fix.

use std::future::pending;
use std::time::Duration;

use keen::scope::{CancelReason, CancelScope};
use keen::time::{self, Instant};
use keen_suite::{ALL, Flavor, each};

/// `cancel()` from the test thread racing with the body's first suspension
/// on a worker: the body must always be woken and dropped.
#[test]
fn cancel_racing_first_suspension_is_never_lost() {
    each(&ALL, |cfg| {
        if cfg.flavor != Flavor::MultiThread(2) {
            return; // the race needs a worker running while this thread cancels
        }
        let rt = cfg.build();
        for i in 0..5_000u32 {
            let scope = CancelScope::new();
            let inner = scope.clone();
            let task = rt.spawn(async move { inner.run(pending::<()>()).await });
            for _ in 0..(i % 64) {
                std::hint::spin_loop();
            }
            scope.cancel();
            let result = rt.block_on(task).unwrap();
            assert_eq!(
                result.unwrap_err().reason(),
                CancelReason::Explicit,
                "{cfg:?} #{i}"
            );
        }
    });
}

/// trio's bounded cleanup: a shielded scope with its own deadline inside a
/// cancelled scope is cancelled by that deadline, then the outer catches.
#[test]
fn shield_with_own_deadline_inside_cancelled_parent() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        rt.block_on(async {
            let start = Instant::now();
            let outer = CancelScope::new();
            let cancel = outer.clone();
            let inner = CancelScope::with_timeout(Duration::from_millis(10));
            let cleanup = inner.clone();
            let result = outer
                .run(async move {
                    cancel.cancel();
                    cleanup.set_shield(true);
                    let r = cleanup.run(pending::<()>()).await;
                    assert_eq!(r.unwrap_err().reason(), CancelReason::Deadline);
                    time::sleep(Duration::from_secs(1)).await; // outer catches here
                    unreachable!("the outer scope is cancelled");
                })
                .await;
            assert!(result.is_err(), "{cfg:?}");
            assert!(outer.cancelled_caught() && inner.cancelled_caught());
            assert_eq!(start.elapsed(), Duration::from_millis(10), "{cfg:?}");
        });
    });
}

/// `set_deadline` from a plain thread (no runtime there) on a scope entered
/// without a deadline uses the runtime's (paused) clock and wheel.
#[test]
fn set_deadline_from_a_plain_thread() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        rt.block_on(async {
            let start = Instant::now();
            let scope = CancelScope::new();
            let remote = scope.clone();
            let body = scope.run(async move {
                let deadline = Instant::now() + Duration::from_secs(1);
                keen::spawn_blocking(move || {
                    std::thread::spawn(move || remote.set_deadline(deadline))
                        .join()
                        .expect("set_deadline works off the runtime")
                })
                .await
                .unwrap();
                time::sleep(Duration::from_millis(500)).await;
                "finished before the deadline"
            });
            assert_eq!(
                body.await.unwrap(),
                "finished before the deadline",
                "{cfg:?}"
            );
            assert_eq!(start.elapsed(), Duration::from_millis(500));
        });
    });
}

/// A shielded scope first polled inside a cancelled scope, then finished in
/// another task: the cancelled scope must be woken to catch.
#[test]
fn shield_finishing_in_another_task_wakes_the_cancelled_parent() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        let out = rt.block_on(async {
            let parent = CancelScope::new();
            let cancel = parent.clone();
            parent
                .run(async move {
                    let shield = CancelScope::new();
                    shield.set_shield(true);
                    let mut run = Box::pin(shield.run(time::sleep(Duration::from_millis(5))));
                    // First poll here, under the parent: counts the shield.
                    assert!(keen_suite::poll_once(&mut run).is_pending());
                    cancel.cancel();
                    // Finish it elsewhere; the parent waits for it meanwhile.
                    keen::spawn(async move { run.await.unwrap() });
                    pending::<()>().await;
                })
                .await
        });
        assert_eq!(out.unwrap_err().reason(), CancelReason::Explicit, "{cfg:?}");
    });
}
