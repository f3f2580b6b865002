//! Cancel scopes and eager spawn: a scope entered during a child's eager
//! first poll belongs to the child, never to the task that spawned it. The
//! issue's seed case (zero timeouts in eagerly spawned children, 3 and 1,000
//! of them, from `block_on` and from a task), a child's deadline that fires
//! after promotion, nested eager spawns inside cancelled scopes, and the
//! spawner's scope staying out of its children's way — on every runtime
//! configuration, with the paused clock so durations are exact.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keen::Runtime;
use keen::scope::{CancelReason, CancelScope, Cancelled};
use keen::task::{self, yield_now};
use keen::time::{Instant, sleep, timeout};
use keen_suite::{ALL, each, run_in_task, signal};

const MS: Duration = Duration::from_millis(1);

/// Spawns `n` children that each run `timeout(ZERO, yield_now())`, joins
/// them, and checks that every child got its own `Elapsed` from its own
/// scope.
async fn zero_timeout_children(n: usize) {
    let start = Instant::now();
    let children: Vec<_> = (0..n)
        .map(|_| {
            keen::spawn(async {
                // Entered in the eager phase: the explicit form, whose
                // scope can be inspected, then the `timeout` form.
                let scope = CancelScope::with_timeout(Duration::ZERO);
                let caught = scope.run(yield_now()).await.is_err();
                assert!(caught, "the zero deadline is delivered");
                (timeout(Duration::ZERO, yield_now()).await, scope)
            })
        })
        .collect();
    let mut scopes: Vec<CancelScope> = Vec::with_capacity(n);
    for child in children {
        let (result, scope) = child.await.expect("the child does not panic");
        assert!(result.is_err(), "each child's zero timeout elapses");
        assert!(scope.cancelled_caught(), "caught by the child's own scope");
        assert_eq!(
            scope.deadline(),
            Some(start),
            "fixed at the child's first poll"
        );
        scopes.push(scope);
    }
    // Every child had a scope of its own.
    for (i, a) in scopes.iter().enumerate().take(50) {
        assert!(scopes[i + 1..].iter().all(|b| !a.ptr_eq(b)));
    }
}

/// The parent side of the seed case: inside a scope of its own, spawn the
/// children, then check the parent goes on with normal timers.
async fn seed_parent(n: usize) -> (Result<&'static str, Cancelled>, CancelScope) {
    let parent = CancelScope::new();
    let result = parent
        .run(async {
            let start = Instant::now();
            zero_timeout_children(n).await;
            // The parent was not cancelled: it carries on, and its own
            // sleeps and timeouts behave normally.
            assert_eq!(start.elapsed(), Duration::ZERO);
            sleep(5 * MS).await;
            assert_eq!(start.elapsed(), 5 * MS);
            let slow = timeout(10 * MS, sleep(Duration::from_secs(1))).await;
            assert!(slow.is_err());
            assert_eq!(start.elapsed(), 15 * MS);
            let fast = timeout(10 * MS, async {
                sleep(2 * MS).await;
                7
            })
            .await;
            assert_eq!(fast, Ok(7));
            assert_eq!(start.elapsed(), 17 * MS);
            "parent finished"
        })
        .await;
    (result, parent)
}

fn check_seed(rt: &Runtime, (result, parent): (Result<&str, Cancelled>, CancelScope)) {
    assert_eq!(
        result.expect("the parent's scope is not cancelled"),
        "parent finished"
    );
    assert!(!parent.is_cancelled());
    assert!(!parent.cancelled_caught());
    assert_eq!(rt.metrics().timers, 0);
}

#[test]
fn seed_three_zero_timeout_children_in_block_on() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        let out = rt.block_on(seed_parent(3));
        check_seed(&rt, out);
    });
}

#[test]
fn seed_three_zero_timeout_children_in_a_task() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        let out = run_in_task(&rt, seed_parent(3));
        check_seed(&rt, out);
    });
}

#[test]
fn seed_a_thousand_zero_timeout_children() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        let out = run_in_task(&rt, seed_parent(1000));
        check_seed(&rt, out);
        let out = rt.block_on(seed_parent(1000));
        check_seed(&rt, out);
    });
}

#[test]
fn deadline_entered_in_the_eager_phase_fires_in_the_promoted_child() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async move {
            let parent = CancelScope::new();
            let parent_result = parent
                .run(async {
                    let start = Instant::now();
                    let scope = CancelScope::with_timeout(10 * MS);
                    let ids = Arc::new(Mutex::new(Vec::new()));
                    let (s, log) = (scope.clone(), ids.clone());
                    let child = keen::spawn(async move {
                        let result = s
                            .run(async {
                                log.lock().unwrap().push(task::id());
                                yield_now().await; // eager: promoted here
                                log.lock().unwrap().push(task::id());
                                sleep(Duration::from_secs(1)).await;
                                "slept a second"
                            })
                            .await;
                        (result, Instant::now())
                    });
                    let child_id = child.id();
                    if cfg.eager {
                        assert_eq!(
                            scope.deadline(),
                            Some(start + 10 * MS),
                            "the relative deadline is fixed during the eager poll"
                        );
                    }
                    // The parent keeps running while the child waits.
                    sleep(3 * MS).await;
                    assert_eq!(start.elapsed(), 3 * MS);

                    let (result, at) = child.await.expect("the child does not panic");
                    let cancelled = result.expect_err("the child's deadline fires");
                    assert_eq!(cancelled.reason(), CancelReason::Deadline);
                    assert!(cancelled.is_deadline());
                    assert!(cancelled.scope().ptr_eq(&scope));
                    assert!(scope.cancelled_caught());
                    assert_eq!(at, start + 10 * MS, "fired exactly at the deadline");
                    assert_eq!(scope.deadline(), Some(start + 10 * MS));
                    assert_eq!(*ids.lock().unwrap(), [child_id, child_id]);

                    // The parent is untouched and goes on.
                    sleep(5 * MS).await;
                    assert_eq!(start.elapsed(), 15 * MS);
                })
                .await;
            assert!(parent_result.is_ok());
            assert!(!parent.is_cancelled() && !parent.cancelled_caught());
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn cancelling_the_spawners_scope_leaves_an_eager_childs_scope_alone() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let parent = CancelScope::new();
            let child_scope = CancelScope::new();
            let (trigger, signal) = signal();
            let mut child = None;
            let result = parent
                .run(async {
                    let s = child_scope.clone();
                    child = Some(keen::spawn(async move {
                        s.run(async {
                            signal.await;
                            "child done"
                        })
                        .await
                    }));
                    parent.cancel();
                    yield_now().await;
                    unreachable!("the parent's scope catches at this suspension");
                })
                .await;
            assert_eq!(result.unwrap_err().reason(), CancelReason::Explicit);
            assert!(parent.cancelled_caught());
            trigger.fire();
            let out = child.unwrap().await.expect("the child does not panic");
            assert_eq!(
                out.expect("the child's scope is not cancelled"),
                "child done"
            );
            assert!(!child_scope.is_cancelled() && !child_scope.cancelled_caught());
        });
    });
}

#[test]
fn the_spawners_deadline_does_not_reach_a_child_spawned_inside_it() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let parent = CancelScope::with_timeout(5 * MS);
            let mut child = None;
            let result = parent
                .run(async {
                    child = Some(keen::spawn(async {
                        // A timeout of the child's own, longer than the parent's.
                        let r = timeout(50 * MS, sleep(20 * MS)).await;
                        (r, Instant::now())
                    }));
                    sleep(Duration::from_secs(1)).await;
                })
                .await;
            assert!(result.unwrap_err().is_deadline());
            assert_eq!(start.elapsed(), 5 * MS);
            let (r, at) = child.unwrap().await.expect("the child does not panic");
            assert_eq!(r, Ok(()), "the child's sleep is not cut short");
            assert_eq!(at, start + 20 * MS);
        });
    });
}

/// One level: a zero-deadline scope whose body spawns the next level before
/// it suspends. Returns how many levels (this one included) caught their own
/// deadline.
fn nested_level(depth: u32) -> std::pin::Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move {
        let scope = CancelScope::with_timeout(Duration::ZERO);
        let mut below = None;
        let result = scope
            .run(async {
                if depth > 0 {
                    below = Some(keen::spawn(nested_level(depth - 1)));
                }
                yield_now().await;
            })
            .await;
        let err = result.expect_err("a zero deadline cancels at the first suspension");
        assert_eq!(
            err.reason(),
            CancelReason::Deadline,
            "its own deadline, not a parent's"
        );
        assert!(scope.cancelled_caught());
        let caught_below = match below {
            Some(handle) => handle.await.expect("no level panics"),
            None => 0,
        };
        caught_below + 1
    })
}

#[test]
fn nested_eager_spawns_inside_cancelled_scopes_each_catch_their_own() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        assert_eq!(run_in_task(&rt, nested_level(40)), 41);
        assert_eq!(rt.block_on(nested_level(40)), 41);
        assert_eq!(rt.metrics().timers, 0);
    });
}
