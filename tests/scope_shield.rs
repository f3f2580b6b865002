//! Shielded cancel scopes on every runtime configuration, on the paused
//! clock: a shield holds off an enclosing scope's cancellation (explicit or
//! by deadline) until the shielded body is done, the code right after it
//! runs, and the next suspension outside it delivers the cancellation; a
//! shield never holds off its own deadline, inside a cancelled scope too;
//! dropping the shield lets a pending cancellation in at once. Shields
//! toggled from a plain thread are in `scope_threads.rs`.

use std::time::Duration;

use keen::scope::{CancelReason, CancelScope, Cancelled};
use keen::task::yield_now;
use keen::time::{Instant, sleep};
use keen_suite::{ALL, each, run_in_task};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

/// `outer` gets cancelled (by `cancel_outer`, run inside the shielded body,
/// or by its own deadline) while the body sleeps 10 ms in a shielded scope.
/// Returns the outer result, the shielded result and the total time.
async fn shielded_sleep(
    outer: &CancelScope,
    cancel_inside: bool,
) -> (
    Result<(), Cancelled>,
    Option<Result<Duration, CancelReason>>,
    Duration,
) {
    let start = Instant::now();
    let shield = CancelScope::new();
    shield.set_shield(true);
    let mut shielded = None;
    let result = outer
        .run(async {
            let r = shield
                .run(async {
                    if cancel_inside {
                        outer.cancel();
                    }
                    let t = Instant::now();
                    sleep(10 * MS).await;
                    t.elapsed()
                })
                .await;
            // Runs: the shield kept the cancellation out until here.
            shielded = Some(r.map_err(|c| c.reason()));
            sleep(HOUR).await; // the next suspension outside the shield
            unreachable!("cancelled at the first suspension after the shield");
        })
        .await;
    assert!(!shield.cancelled_caught() && !shield.is_cancelled());
    (result, shielded, start.elapsed())
}

#[test]
fn shield_holds_off_an_explicit_cancel_until_it_is_done() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let outer = CancelScope::new();
            let (result, shielded, total) = shielded_sleep(&outer, true).await;
            assert_eq!(
                shielded,
                Some(Ok(10 * MS)),
                "the shielded sleep completes in full"
            );
            assert_eq!(result.unwrap_err().reason(), CancelReason::Explicit);
            assert!(outer.cancelled_caught());
            assert_eq!(total, 10 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn shield_holds_off_an_outer_deadline_until_it_is_done() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let outer = CancelScope::with_timeout(5 * MS);
            let (result, shielded, total) = shielded_sleep(&outer, false).await;
            assert_eq!(
                shielded,
                Some(Ok(10 * MS)),
                "the shielded sleep completes in full"
            );
            assert_eq!(result.unwrap_err().reason(), CancelReason::Deadline);
            assert!(outer.cancelled_caught());
            assert_eq!(
                total,
                10 * MS,
                "delivered at the first suspension after the shield"
            );
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn shield_does_not_hold_off_its_own_deadline() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let outer = CancelScope::new();
            let shield = CancelScope::with_timeout(5 * MS);
            shield.set_shield(true);
            let result = outer
                .run(async {
                    let r = shield.run(sleep(HOUR)).await;
                    (r.map_err(|c| c.reason()), start.elapsed())
                })
                .await;
            let (shielded, at) = result.expect("the outer scope is not cancelled");
            assert_eq!(shielded, Err(CancelReason::Deadline));
            assert_eq!(at, 5 * MS);
            assert!(shield.cancelled_caught() && !outer.cancelled_caught());
        });
    });
}

#[test]
fn shield_does_not_hold_off_its_own_deadline_inside_a_cancelled_scope() {
    // The outer scope is cancelled, the shield keeps that out; then the
    // shield's own deadline passes. The shielded scope must catch its own
    // deadline (trio's rule: cancellation cannot cross a shield, so the
    // outer scope is not the one delivering here); then the outer scope
    // catches at the next suspension.
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let outer = CancelScope::new();
            let shield = CancelScope::with_timeout(5 * MS);
            shield.set_shield(true);
            let mut shielded = None;
            let result = outer
                .run(async {
                    let r = shield
                        .run(async {
                            outer.cancel();
                            sleep(HOUR).await;
                            "slept an hour"
                        })
                        .await;
                    shielded = Some((r.map_err(|c| c.reason()), start.elapsed()));
                    yield_now().await;
                    unreachable!("cancelled at the first suspension after the shield");
                })
                .await;
            assert_eq!(
                shielded,
                Some((Err(CancelReason::Deadline), 5 * MS)),
                "the shielded scope catches its own deadline when it passes"
            );
            assert!(shield.cancelled_caught());
            assert_eq!(result.unwrap_err().reason(), CancelReason::Explicit);
            assert!(outer.cancelled_caught());
        });
    });
}

#[test]
fn dropping_the_shield_lets_a_pending_cancellation_in_at_once() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let outer = CancelScope::new();
            let shield = CancelScope::new();
            shield.set_shield(true);
            let s = shield.clone();
            let unshield = keen::spawn(async move {
                sleep(5 * MS).await;
                s.set_shield(false);
            });
            let result = outer
                .run(async {
                    let _ = shield
                        .run(async {
                            outer.cancel();
                            sleep(HOUR).await;
                        })
                        .await;
                    unreachable!("the outer scope drops the shielded run");
                })
                .await;
            assert_eq!(result.unwrap_err().reason(), CancelReason::Explicit);
            assert!(outer.cancelled_caught() && !shield.cancelled_caught());
            assert!(!shield.is_shielded());
            assert_eq!(start.elapsed(), 5 * MS);
            unshield.await.unwrap();
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}
