//! The lazy scope behind `timeout`, `move_on_*` and `fail_*`: outermost in a
//! task it is only a timer entry, and it turns into a real scope the moment
//! something inside links to it. Every scope rule must hold across that
//! change: attribution between a timeout and scopes or timeouts inside it
//! (entered before or after its timer was registered), shields inside a
//! timeout, a past deadline met by a nested scope, a timeout moved to
//! another task after it went real, and no timer left behind — on every
//! configuration, with the paused clock so durations are exact.

use std::future::pending;
use std::time::Duration;

use keen::scope::{CancelReason, CancelScope, fail_after, move_on_after};
use keen::task::yield_now;
use keen::time::{Instant, sleep, timeout, timeout_at};
use keen_suite::{ALL, each, run_in_task, timers};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_scope_inside_a_timeout_links_to_it() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            // Both due at once: the timeout, outermost, catches.
            let inner = CancelScope::with_timeout(5 * MS);
            let out = timeout(5 * MS, inner.run(sleep(HOUR))).await;
            assert!(out.is_err(), "the timeout catches: {out:?}");
            assert!(inner.is_cancelled() && !inner.cancelled_caught());
            assert_eq!(start.elapsed(), 5 * MS);

            // The inner deadline is shorter: the inner scope catches and
            // the timeout completes with its result.
            let inner = CancelScope::with_timeout(2 * MS);
            let out = timeout(5 * MS, inner.run(sleep(HOUR))).await;
            let caught = out.expect("the timeout does not fire").unwrap_err();
            assert_eq!(caught.reason(), CancelReason::Deadline);
            assert!(inner.cancelled_caught());
            assert_eq!(start.elapsed(), 7 * MS);

            // Entered after the timeout's timer was registered: the scope
            // has no deadline and is cancelled through the timeout.
            let inner = CancelScope::new();
            let body = async {
                sleep(3 * MS).await;
                inner.run(pending::<()>()).await
            };
            assert!(timeout(10 * MS, body).await.is_err());
            assert!(!inner.is_cancelled() && !inner.cancelled_caught());
            assert_eq!(start.elapsed(), 17 * MS);
            assert_eq!(timers(), 0, "the lazy timer was replaced, not leaked");
        });
    });
}

#[test]
fn timeouts_inside_timeouts() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            // Same deadline: the outer catches, the inner never returns.
            let out = timeout(5 * MS, timeout(5 * MS, sleep(HOUR))).await;
            assert!(out.is_err(), "the outer catches: {out:?}");
            assert_eq!(start.elapsed(), 5 * MS);

            // Inner shorter: the inner's `Elapsed` comes out of the outer.
            let out = timeout(10 * MS, timeout(2 * MS, sleep(HOUR))).await;
            assert!(matches!(out, Ok(Err(_))), "the inner catches: {out:?}");
            assert_eq!(start.elapsed(), 7 * MS);

            // Outer shorter, inner entered late, helpers mixed.
            let body = async {
                yield_now().await;
                move_on_after(HOUR, fail_after(HOUR, sleep(HOUR))).await
            };
            assert_eq!(move_on_after(3 * MS, body).await, None);
            assert_eq!(start.elapsed(), 10 * MS);
            assert_eq!(timers(), 0);
        });
    });
}

#[test]
fn a_shield_inside_a_timeout_finishes_first() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let shielded = CancelScope::new();
            shielded.set_shield(true);
            let body = async {
                let out = shielded.run(sleep(5 * MS)).await;
                assert!(out.is_ok(), "the shield keeps the timeout out");
                // The next suspension outside the shield is cancelled.
                sleep(HOUR).await;
                unreachable!("cancelled at this suspension");
            };
            assert!(timeout(2 * MS, body).await.is_err());
            assert_eq!(start.elapsed(), 5 * MS);
            assert_eq!(timers(), 0);
        });
    });
}

#[test]
fn a_past_deadline_met_by_a_nested_scope() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let past = Instant::now();
            let inner = CancelScope::new();
            let out = timeout_at(past, inner.run(yield_now())).await;
            assert!(out.is_err(), "the expired timeout catches: {out:?}");
            assert!(!inner.cancelled_caught());
            // A nested scope that completes without suspending is `Ok`
            // under an expired timeout, as the body is polled first.
            let inner = CancelScope::new();
            let out = timeout_at(past, inner.run(async { 3 })).await;
            assert_eq!(out.map(Result::ok), Ok(Some(3)));
            assert_eq!(timers(), 0);
        });
    });
}

#[test]
fn a_timeout_in_a_scope_is_real_at_once() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let outer = CancelScope::with_timeout(4 * MS);
            let out = outer.run(timeout(4 * MS, sleep(HOUR))).await;
            let caught = out.expect_err("the outer scope catches");
            assert!(caught.scope().ptr_eq(&outer));
            assert_eq!(start.elapsed(), 4 * MS);

            // Cancelled explicitly from another task, the outer scope
            // reaches the timeout's body through the link.
            let outer = CancelScope::new();
            let handle = outer.clone();
            let canceller = keen::spawn(async move {
                sleep(MS).await;
                handle.cancel();
            });
            let out = outer.run(timeout(HOUR, pending::<()>())).await;
            assert_eq!(out.unwrap_err().reason(), CancelReason::Explicit);
            canceller.await.unwrap();
            assert_eq!(start.elapsed(), 5 * MS);
            assert_eq!(timers(), 0);
        });
    });
}

#[test]
fn eager_children_get_lazy_timeouts_of_their_own() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            // The parent is inside a scope; its eager children are not.
            let parent = CancelScope::with_timeout(HOUR);
            let out = parent
                .run(async {
                    let children: Vec<_> = (0..3u32)
                        .map(|i| {
                            keen::spawn(
                                async move { timeout((i + 1) * MS, sleep(HOUR)).await.is_err() },
                            )
                        })
                        .collect();
                    for child in children {
                        assert!(child.await.unwrap(), "each child's own timeout fires");
                    }
                    "parent done"
                })
                .await;
            assert_eq!(out.unwrap(), "parent done");
            assert!(!parent.is_cancelled());
            assert_eq!(start.elapsed(), 3 * MS);
            assert_eq!(timers(), 0);
        });
    });
}
