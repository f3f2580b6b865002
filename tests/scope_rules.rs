//! The cancel-scope rules on every runtime configuration, on the paused clock
//! so every deadline is checked to the millisecond: attribution between
//! nested scopes (outermost cancelled scope catches), moving a
//! deadline after entry (`set_deadline` earlier, later, `None`, past),
//! `cancel()` before the first poll, delivery only at a suspension, the
//! `Parent` reason, the `move_on_*`/`fail_*` helpers, `Cancelled`'s
//! reason and text, running one scope twice, and panics inside a scope
//! leaving no timer behind. Shields are in `scope_shield.rs`.

use std::future::pending;
use std::pin::Pin;
use std::time::Duration;

use keen::scope::{
    CancelReason, CancelScope, Cancelled, Run, TimedOut, fail_after, fail_at, move_on_after,
    move_on_at,
};
use keen::task::yield_now;
use keen::time::{Instant, advance, sleep};
use keen_suite::{ALL, DropCounter, each, panic_message, poll_once, run_in_task, timers};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

// ---------------------------------------------------------------------------
// Attribution between nested scopes

#[test]
fn nested_scopes_expiring_together_the_outer_catches() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let outer = CancelScope::with_timeout(10 * MS);
            let inner = CancelScope::with_timeout(10 * MS);
            let mut after_inner = false;
            let result = outer
                .run(async {
                    let _ = inner.run(sleep(HOUR)).await;
                    after_inner = true;
                })
                .await;
            // (outer caught, inner caught, code after the inner run ran)
            let seen = (
                outer.cancelled_caught(),
                inner.cancelled_caught(),
                after_inner,
            );
            assert_eq!(seen, (true, false, false), "the outer scope catches");
            let cancelled = result.expect_err("both deadlines passed");
            assert!(cancelled.scope().ptr_eq(&outer));
            assert_eq!(cancelled.reason(), CancelReason::Deadline);
            assert_eq!(start.elapsed(), 10 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn nested_scopes_both_past_their_deadline_at_a_suspension_the_outer_catches() {
    // The body moves the clock past both deadlines itself, so both are
    // cancelled before the task can be polled again, on every flavour.
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let outer = CancelScope::with_timeout(10 * MS);
            let inner = CancelScope::with_timeout(5 * MS);
            let mut after_inner = false;
            let result = outer
                .run(async {
                    let _ = inner
                        .run(async {
                            advance(20 * MS).await;
                            pending::<()>().await;
                        })
                        .await;
                    after_inner = true;
                })
                .await;
            // (outer caught, inner caught, code after the inner run ran)
            let seen = (
                outer.cancelled_caught(),
                inner.cancelled_caught(),
                after_inner,
            );
            assert_eq!(seen, (true, false, false), "the outer scope catches");
            let cancelled = result.expect_err("both deadlines passed");
            assert!(cancelled.scope().ptr_eq(&outer));
            assert!(outer.is_cancelled() && inner.is_cancelled());
        });
    });
}

#[test]
fn nested_scopes_cancelled_inner_first_the_outer_catches() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let outer = CancelScope::new();
            let inner = CancelScope::new();
            let mut after_inner = false;
            let result = outer
                .run(async {
                    let _ = inner
                        .run(async {
                            inner.cancel();
                            outer.cancel();
                            yield_now().await;
                        })
                        .await;
                    after_inner = true;
                })
                .await;
            let cancelled = result.expect_err("both scopes were cancelled");
            assert!(cancelled.scope().ptr_eq(&outer));
            assert_eq!(cancelled.reason(), CancelReason::Explicit);
            assert!(outer.cancelled_caught() && !inner.cancelled_caught());
            assert!(!after_inner);
        });
    });
}

#[test]
fn outer_deadline_first_the_outer_catches_and_the_inner_is_not_cancelled() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let outer = CancelScope::with_timeout(10 * MS);
            let inner = CancelScope::with_timeout(HOUR);
            let drops = DropCounter::new();
            let token = drops.token();
            let result = outer
                .run(async {
                    let _ = inner
                        .run(async move {
                            let _token = token;
                            sleep(HOUR).await;
                        })
                        .await;
                    unreachable!("the outer scope drops the inner run");
                })
                .await;
            assert_eq!(
                drops.get(),
                1,
                "the inner body is dropped before run returns"
            );
            let cancelled = result.unwrap_err();
            assert!(cancelled.scope().ptr_eq(&outer) && cancelled.is_deadline());
            assert!(!inner.is_cancelled() && !inner.cancelled_caught());
            assert_eq!(start.elapsed(), 10 * MS);
            assert_eq!(
                timers(),
                0,
                "the inner deadline left the wheel with its scope"
            );
        });
    });
}

#[test]
fn inner_deadline_first_the_inner_catches_and_the_outer_goes_on() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let outer = CancelScope::with_timeout(50 * MS);
            let inner = CancelScope::with_timeout(10 * MS);
            let result = outer
                .run(async {
                    let r = inner.run(sleep(HOUR)).await;
                    let cancelled = r.expect_err("the inner deadline passes");
                    assert_eq!(cancelled.reason(), CancelReason::Deadline);
                    assert!(cancelled.scope().ptr_eq(&inner));
                    assert_eq!(start.elapsed(), 10 * MS);
                    sleep(20 * MS).await;
                    "outer done"
                })
                .await;
            assert_eq!(
                result.expect("the outer deadline never passed"),
                "outer done"
            );
            assert_eq!(start.elapsed(), 30 * MS);
            assert!(inner.cancelled_caught() && !outer.cancelled_caught());
            assert!(!outer.is_cancelled());
        });
    });
}

#[test]
fn a_cancelled_middle_scope_catches_between_two_live_ones() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let (outer, middle, inner) =
                (CancelScope::new(), CancelScope::new(), CancelScope::new());
            let result = outer
                .run(async {
                    let r = middle
                        .run(async {
                            let _ = inner
                                .run(async {
                                    middle.cancel();
                                    sleep(HOUR).await;
                                })
                                .await;
                            unreachable!("the middle scope drops the inner run");
                        })
                        .await;
                    r.unwrap_err().reason()
                })
                .await;
            assert_eq!(
                result.expect("the outer scope is not cancelled"),
                CancelReason::Explicit
            );
            assert!(middle.cancelled_caught());
            assert!(!inner.cancelled_caught() && !outer.cancelled_caught());
        });
    });
}

// ---------------------------------------------------------------------------
// Deadlines moved after entry

/// Runs `body` in `scope` while another task moves the deadline to
/// `new_deadline(start)` 5 ms in. Returns the result and when `run` returned.
async fn move_deadline_at_5ms<F: Future>(
    scope: CancelScope,
    new_deadline: impl FnOnce(Instant) -> Option<Instant> + Send + 'static,
    body: F,
) -> (Result<F::Output, CancelReason>, Duration) {
    let start = Instant::now();
    let s = scope.clone();
    let mover = keen::spawn(async move {
        sleep(5 * MS).await;
        s.set_deadline(new_deadline(start));
    });
    let result = scope.run(body).await.map_err(|c| c.reason());
    let at = start.elapsed();
    mover.await.expect("the mover does not panic");
    (result, at)
}

#[test]
fn set_deadline_earlier_fires_at_the_new_time() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let scope = CancelScope::with_timeout(Duration::from_secs(1));
            let (result, at) =
                move_deadline_at_5ms(scope.clone(), |s| Some(s + 10 * MS), pending::<()>()).await;
            assert_eq!(result, Err(CancelReason::Deadline));
            assert_eq!(at, 10 * MS);
            assert!(scope.cancelled_caught());
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn set_deadline_later_does_not_fire_at_the_old_time() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let scope = CancelScope::with_timeout(10 * MS);
            let (result, at) =
                move_deadline_at_5ms(scope.clone(), |s| Some(s + 50 * MS), pending::<()>()).await;
            assert_eq!(result, Err(CancelReason::Deadline));
            assert_eq!(at, 50 * MS, "not at the old deadline (10 ms)");

            let scope = CancelScope::with_timeout(10 * MS);
            let (result, at) =
                move_deadline_at_5ms(scope.clone(), |s| Some(s + 50 * MS), sleep(30 * MS)).await;
            assert_eq!(result, Ok(()));
            assert_eq!(at, 30 * MS);
            assert!(!scope.is_cancelled());
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn set_deadline_none_removes_it() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let scope = CancelScope::with_timeout(10 * MS);
            let (result, at) = move_deadline_at_5ms(scope.clone(), |_| None, sleep(30 * MS)).await;
            assert_eq!(result, Ok(()));
            assert_eq!(at, 30 * MS);
            assert_eq!(scope.deadline(), None);
            assert!(!scope.is_cancelled());
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn set_deadline_in_the_past_cancels_at_once() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let scope = CancelScope::with_timeout(HOUR);
            let (result, at) = move_deadline_at_5ms(scope.clone(), Some, pending::<()>()).await;
            assert_eq!(result, Err(CancelReason::Deadline));
            assert_eq!(
                at,
                5 * MS,
                "cancelled when the deadline was moved, not later"
            );

            // A scope entered without a deadline can be given one too.
            let scope = CancelScope::new();
            let (result, at) = move_deadline_at_5ms(scope.clone(), Some, pending::<()>()).await;
            assert_eq!(result, Err(CancelReason::Deadline));
            assert_eq!(at, 5 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn set_deadline_inside_the_body_and_before_entry() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            // During the body's first poll, before the scope armed its timer.
            let scope = CancelScope::with_timeout(HOUR);
            let r = scope
                .run(async {
                    scope.set_deadline(start + 10 * MS);
                    pending::<()>().await
                })
                .await;
            assert!(r.unwrap_err().is_deadline());
            assert_eq!(start.elapsed(), 10 * MS);

            // A scope without a deadline, given one inside its body.
            let scope = CancelScope::new();
            let r = scope
                .run(async {
                    scope.set_deadline(Instant::now() + 5 * MS);
                    pending::<()>().await
                })
                .await;
            assert!(r.unwrap_err().is_deadline());
            assert_eq!(start.elapsed(), 15 * MS);

            // Before entry: an absolute deadline replaces a relative one.
            let scope = CancelScope::with_timeout(HOUR);
            assert_eq!(scope.deadline(), None, "relative: not fixed before entry");
            let at = Instant::now() + 5 * MS;
            scope.set_deadline(at);
            assert_eq!(scope.deadline(), Some(at));
            assert!(scope.run(pending::<()>()).await.unwrap_err().is_deadline());
            assert_eq!(start.elapsed(), 20 * MS);

            // A relative deadline is fixed at the first poll, not at creation.
            let scope = CancelScope::with_timeout(10 * MS);
            sleep(7 * MS).await;
            let entered = Instant::now();
            assert!(scope.run(pending::<()>()).await.unwrap_err().is_deadline());
            assert_eq!(scope.deadline(), Some(entered + 10 * MS));
            assert_eq!(entered.elapsed(), 10 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

// ---------------------------------------------------------------------------
// Delivery at a suspension; cancel() before the first poll

#[test]
fn cancel_before_the_first_poll_is_delivered_at_the_first_suspension() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let scope = CancelScope::new();
            scope.cancel();
            assert!(scope.is_cancelled() && !scope.cancelled_caught());
            let mut steps = Vec::new();
            let r = scope
                .run(async {
                    steps.push("before the first suspension");
                    yield_now().await;
                    steps.push("after it");
                })
                .await;
            assert_eq!(r.unwrap_err().reason(), CancelReason::Explicit);
            assert_eq!(steps, ["before the first suspension"]);
            assert!(scope.cancelled_caught());

            // Remembered through a later deadline too: cancellation is sticky.
            let scope = CancelScope::new();
            scope.cancel();
            scope.set_deadline(Instant::now() + HOUR);
            assert!(scope.run(yield_now()).await.is_err());
        });
    });
}

#[test]
fn a_body_that_never_suspends_returns_its_value_in_a_cancelled_scope() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let scope = CancelScope::new();
            scope.cancel();
            assert_eq!(scope.run(async { 5 }).await.unwrap(), 5);
            assert!(scope.is_cancelled() && !scope.cancelled_caught());

            let scope = CancelScope::with_timeout(Duration::ZERO);
            assert_eq!(scope.run(async { 6 }).await.unwrap(), 6);
            assert!(!scope.cancelled_caught());

            let past = Instant::now();
            advance(MS).await;
            let scope = CancelScope::with_deadline(past);
            assert_eq!(scope.run(async { 7 }).await.unwrap(), 7);
            assert!(scope.is_cancelled(), "a past deadline cancels at entry");
            assert!(!scope.cancelled_caught());
            // But a pending body in such a scope is cancelled at once.
            let scope = CancelScope::with_deadline(past);
            assert!(scope.run(pending::<()>()).await.unwrap_err().is_deadline());
            assert_eq!(past.elapsed(), MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn reason_parent_when_the_enclosing_scope_is_not_polling() {
    // A `Run` first polled inside `outer`'s body links to `outer`. Moved to
    // another task and cancelled through `outer` there, it catches itself,
    // with reason `Parent`.
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let outer = CancelScope::new();
            let inner = CancelScope::new();
            let mut moved: Option<Pin<Box<Run<_>>>> = None;
            outer
                .run(async {
                    let mut run = Box::pin(inner.run(pending::<()>()));
                    assert!(poll_once(&mut run).is_pending());
                    moved = Some(run);
                })
                .await
                .expect("the outer body completes");
            let mut run = moved.unwrap();
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            let task = keen::spawn(async move {
                let mut sent = false;
                std::future::poll_fn(|cx| {
                    let poll = run.as_mut().poll(cx);
                    if poll.is_pending() && !sent {
                        ready_tx.send(()).unwrap();
                        sent = true;
                    }
                    poll
                })
                .await
            });
            // Cancel only once the task waits on it (as a waker, not a poll).
            while ready_rx.try_recv().is_err() {
                yield_now().await;
            }
            outer.cancel();
            let cancelled = task.await.unwrap().expect_err("cancelled through outer");
            assert_eq!(cancelled.reason(), CancelReason::Parent);
            assert!(cancelled.scope().ptr_eq(&inner));
            assert!(inner.cancelled_caught() && !inner.is_cancelled());
            assert!(
                cancelled
                    .to_string()
                    .ends_with("an enclosing scope was cancelled")
            );
        });
    });
}

// ---------------------------------------------------------------------------
// move_on_* / fail_*

#[test]
fn move_on_and_fail_helpers() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let quick = async {
                sleep(5 * MS).await;
                1
            };
            assert_eq!(move_on_after(10 * MS, quick).await, Some(1));
            assert_eq!(start.elapsed(), 5 * MS);
            assert_eq!(move_on_after(10 * MS, pending::<u8>()).await, None);
            assert_eq!(start.elapsed(), 15 * MS);
            assert_eq!(move_on_after(Duration::ZERO, async { 7 }).await, Some(7));

            let at = Instant::now() + 10 * MS;
            assert_eq!(move_on_at(at, sleep(3 * MS)).await, Some(()));
            assert_eq!(start.elapsed(), 18 * MS);
            assert_eq!(move_on_at(at, pending::<()>()).await, None);
            assert_eq!(start.elapsed(), 25 * MS);

            let timed_out: TimedOut = fail_after(10 * MS, pending::<()>()).await.unwrap_err();
            assert_eq!(
                timed_out,
                fail_after(MS, pending::<()>()).await.unwrap_err()
            );
            assert_eq!(start.elapsed(), 36 * MS);
            assert_eq!(fail_after(10 * MS, sleep(MS)).await, Ok(()));
            assert_eq!(start.elapsed(), 37 * MS);

            let past = start;
            assert!(fail_at(past, pending::<()>()).await.is_err());
            assert_eq!(fail_at(past, async { 2 }).await, Ok(2));
            let at = Instant::now() + 4 * MS;
            assert!(fail_at(at, sleep(HOUR)).await.is_err());
            assert_eq!(start.elapsed(), 41 * MS);

            // Inside a cancelled scope the enclosing scope catches, not the helper.
            let outer = CancelScope::new();
            let r = outer
                .run(async {
                    outer.cancel();
                    let _ = move_on_after(HOUR, pending::<()>()).await;
                    unreachable!("the outer scope catches");
                })
                .await;
            assert_eq!(r.unwrap_err().reason(), CancelReason::Explicit);
            assert_eq!(start.elapsed(), 41 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn cancelled_and_timed_out_text_and_reason() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let a = CancelScope::new();
            a.cancel();
            let explicit = a.run(yield_now()).await.unwrap_err();
            let b = CancelScope::with_timeout(MS);
            let deadline = b.run(pending::<()>()).await.unwrap_err();

            assert_eq!(explicit.reason(), CancelReason::Explicit);
            assert!(!explicit.is_deadline());
            assert_eq!(deadline.reason(), CancelReason::Deadline);
            assert!(deadline.is_deadline());
            assert!(explicit.scope().ptr_eq(&a) && deadline.scope().ptr_eq(&b));

            let (e, d) = (explicit.to_string(), deadline.to_string());
            assert!(e.starts_with("cancel scope "), "{e}");
            assert!(
                e.ends_with(" caught a cancellation: cancel() was called"),
                "{e}"
            );
            assert!(d.starts_with("cancel scope "), "{d}");
            assert!(
                d.ends_with(" caught a cancellation: its deadline passed"),
                "{d}"
            );
            // The text names the catching scope: two scopes, two names.
            let name = |s: &str| s.split(" caught").next().unwrap().to_owned();
            assert_ne!(name(&e), name(&d));
            assert_eq!(name(&explicit.clone().to_string()), name(&e));
            assert!(format!("{explicit:?}").contains("Explicit"));
            assert!(format!("{deadline:?}").contains("Deadline"));
            let as_error: &dyn std::error::Error = &deadline;
            assert!(as_error.source().is_none());

            let timed_out = fail_after(MS, pending::<()>()).await.unwrap_err();
            assert_eq!(
                timed_out.to_string(),
                "deadline passed before the operation completed"
            );
        });
    });
}

#[test]
fn cancel_scope_is_a_shared_send_sync_handle() {
    fn send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    fn send<T: Send>(_: &T) {}
    send_sync_clone::<CancelScope>();
    send_sync_clone::<Cancelled>();
    send_sync_clone::<TimedOut>();
    send(&CancelScope::new().run(async { 1 }));

    let scope = CancelScope::default();
    let clone = scope.clone();
    assert!(scope.ptr_eq(&clone) && !scope.ptr_eq(&CancelScope::new()));
    assert!(!scope.is_cancelled() && !scope.is_shielded() && scope.deadline().is_none());
    clone.cancel();
    clone.set_shield(true);
    assert!(scope.is_cancelled() && scope.is_shielded());
    assert!(format!("{scope:?}").contains("cancelled: true"));
}

#[test]
fn running_one_scope_twice_panics() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            // One after the other.
            let err = keen::spawn(async {
                let scope = CancelScope::new();
                scope.run(async {}).await.unwrap();
                let _ = scope.run(async {}).await;
            })
            .await
            .unwrap_err();
            assert!(err.is_panic());
            let msg = panic_message(&*err.into_panic());
            assert!(msg.contains("already entered"), "{msg}");

            // Both at once.
            let err = keen::spawn(async {
                let scope = CancelScope::with_timeout(HOUR);
                let mut first = Box::pin(scope.run(pending::<()>()));
                assert!(poll_once(&mut first).is_pending());
                let _ = scope.run(async {}).await;
            })
            .await
            .unwrap_err();
            let msg = panic_message(&*err.into_panic());
            assert!(msg.contains("already entered"), "{msg}");
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

// ---------------------------------------------------------------------------
// Panics

#[test]
fn a_panic_inside_a_scope_leaves_no_timer_behind() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        let task = rt.spawn(async {
            let outer = CancelScope::with_timeout(HOUR);
            let inner = CancelScope::with_timeout(2 * HOUR);
            let _ = outer
                .run(async {
                    inner
                        .run(async {
                            let mut long = Box::pin(sleep(3 * HOUR));
                            assert!(poll_once(&mut long).is_pending());
                            sleep(MS).await;
                            // Two scope deadlines and the long sleep.
                            assert_eq!(timers(), 3);
                            panic!("boom inside the scope");
                        })
                        .await
                })
                .await;
        });
        let err = rt.block_on(task).unwrap_err();
        assert!(err.is_panic());
        assert_eq!(panic_message(&*err.into_panic()), "boom inside the scope");
        assert_eq!(rt.metrics().timers, 0);

        // Panicking in the eager phase, before the first suspension.
        let task = rt.spawn(async {
            keen::spawn(async {
                let _ = keen::time::timeout(HOUR, async { panic!("boom at once") }).await;
            })
            .await
        });
        let inner = rt.block_on(task).expect("the outer task does not panic");
        assert!(inner.unwrap_err().is_panic());
        assert_eq!(rt.metrics().timers, 0);
    });
}
